"""Settings shared by every environment. Each environment module reads the rest from the
environment (django-environ); nothing secret lives here."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state of the embedded default (SQLite file, broker folders, built models). Ignored by git.
VAR_DIR = Path(environ.Env().str("RIGHTSIZE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "simple_history",
    "accounts",
    "audit",
    "catalog",
    "evaluations",
    "advisor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.request_checks.RejectNulCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditRequestMiddleware",
    # Every page needs an account; the login page opts out (Django 5.1+).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.ratelimit.LoginRateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "advisor.context_processors.notices",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:model-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery: one place for queues, routes and the long-task habits (acks late, prefetch 1).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True  # the database row is the truth, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Evaluation jobs go to a queue by hardware; the one place that says which.
# backend -> queue, or backend -> {device -> queue}
EVAL_QUEUES = {
    "hf": {"cuda": "gpu", "cpu": "cpu"},
    "vllm": "gpu",
    "local-completions": "api",
    "openai-chat-completions": "api",
}
CELERY_TASK_ROUTES = {
    # The job's own queue (from EVAL_QUEUES) is passed when it is sent; this is the fallback.
    "evaluations.tasks.run_eval_job": {"queue": "cpu"},
    "evaluations.tasks.*": {"queue": "default"},
}
# Redis honours message priorities 0 (first) to 9 with these options.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "priority_steps": list(range(10)),
    "sep": ":",
    "queue_order_strategy": "priority",
}
EVAL_SOFT_TIME_LIMIT_S = env.int("EVAL_SOFT_TIME_LIMIT_S", default=6 * 60 * 60)
EVAL_TIME_LIMIT_S = env.int("EVAL_TIME_LIMIT_S", default=EVAL_SOFT_TIME_LIMIT_S + 300)
CELERY_WORKER_SEND_TASK_EVENTS = True  # for flower

# --- Rightsize
RIGHTSIZE_EMBEDDED = False  # the one-machine demo (SQLite, filesystem broker, demo accounts)
CATALOG_DATA_FILE = BASE_DIR / "catalog" / "data" / "catalog.yaml"
# How many ranked candidates a recommendation keeps (the page shows 15, the chart all of them).
# 20 keeps the engine under 5 ms with 1,000 models (docs/benchmarks.md).
ADVISOR_RANKING_LIMIT = env.int("ADVISOR_RANKING_LIMIT", default=20)
# Where people reach the app: links in emails (the decision watch).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="rightsize@localhost")
# Folders under which evaluation jobs may load local model paths (pretrained=/...).
EVAL_MODEL_ROOTS = [
    Path(p) for p in env.list("EVAL_MODEL_ROOTS", default=[str(VAR_DIR / "models")])
]
EVAL_DEFAULT_DEVICE = env.str("EVAL_DEFAULT_DEVICE", default="cuda")
# Keep Hugging Face libraries off the network in workers (no hub here, in CI or the demo).
EVAL_HF_OFFLINE = env.bool("EVAL_HF_OFFLINE", default=True)
# Extra folders of lm-eval task YAMLs that workers include (besides the shipped local tasks).
EVAL_TASK_DIRS = [Path(p) for p in env.list("EVAL_TASK_DIRS", default=[])]
# How often a worker writes a running job's progress (and looks for a cancel request).
EVAL_PROGRESS_INTERVAL_S = env.float("EVAL_PROGRESS_INTERVAL_S", default=1.0)
# Largest lm-eval result file or domain evaluation set accepted (bytes).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# lm-eval's request cache (one sqlite file per model and revision) and its task-name index.
EVAL_CACHE_DIR = Path(env.str("EVAL_CACHE_DIR", default=str(VAR_DIR / "lm-eval-cache")))

# --- Evaluation jobs survive faults (worker killed, broker restarted, database away a moment).
# The database is the truth about a job; a broker message only asks a worker to look at it.
# A running job's worker writes a heartbeat this often, even while progress does not move.
EVAL_HEARTBEAT_INTERVAL_S = env.float("EVAL_HEARTBEAT_INTERVAL_S", default=10.0)
# A running job with no heartbeat for this long has lost its worker: it is queued again.
EVAL_HEARTBEAT_STALE_S = env.float("EVAL_HEARTBEAT_STALE_S", default=120.0)
# A queued job not started this long after its message was sent gets another message (the broker
# may have lost it); the wait doubles with each message sent, up to EVAL_REQUEUE_MAX_S.
EVAL_REQUEUE_AFTER_S = env.float("EVAL_REQUEUE_AFTER_S", default=600.0)
EVAL_REQUEUE_MAX_S = env.float("EVAL_REQUEUE_MAX_S", default=3600.0)
# A job whose worker is lost this many times ends failed instead of running again.
EVAL_MAX_ATTEMPTS = env.int("EVAL_MAX_ATTEMPTS", default=3)
# How long a worker keeps retrying a write (with backoff) while the database does not answer.
EVAL_DB_RETRY_FOR_S = env.float("EVAL_DB_RETRY_FOR_S", default=120.0)
# The reconciler (evaluations/reconcile.py), sent by Celery beat. It runs on the default queue;
# docker-compose.yml runs beat with a worker of its own for that queue, so that hours-long jobs
# never hold it up.
EVAL_RECONCILE_EVERY_S = env.float("EVAL_RECONCILE_EVERY_S", default=30.0)
CELERY_BEAT_SCHEDULE = {
    "reconcile-eval-jobs": {
        "task": "evaluations.tasks.reconcile_eval_jobs",
        "schedule": EVAL_RECONCILE_EVERY_S,
        # A reconcile that could not run in time is dropped: the next one does its work.
        "options": {"queue": "default", "expires": EVAL_RECONCILE_EVERY_S},
    },
}
# Redis hands an unacknowledged message to another worker after this long. The reconciler
# recovers lost jobs sooner, so keep it past the hard time limit: a job is never redelivered
# while it can still be running.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = EVAL_TIME_LIMIT_S + 600
# --- end of the evaluation-job fault tolerance section

# The decision watch (advisor/watch.py): re-evaluate saved recommendations whose proposed
# evaluations have ended, and tell their owners when the answer moved.
ADVISOR_WATCH_EVERY_S = env.float("ADVISOR_WATCH_EVERY_S", default=60.0)
CELERY_BEAT_SCHEDULE["check-decision-watches"] = {
    "task": "advisor.tasks.check_decision_watches",
    "schedule": ADVISOR_WATCH_EVERY_S,
    "options": {"queue": "default", "expires": ADVISOR_WATCH_EVERY_S},
}

# --- Security: content security policy, login rate limit (accounts/ratelimit.py), API docs
# Serve the API docs' Swagger UI from django-ninja's static files: no CDN, no inline script.
INSTALLED_APPS += ["ninja"]
# Every script and style comes from our own static files (htmx too: {% htmx_script %}); the one
# hash allows django-simple-history's `style="border-top: 0"` on the admin's history page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": [
            "'self'",
            "'unsafe-hashes'",
            "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
        ],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Failed logins per username and client address before that pair must wait (a sliding window:
# each failure restarts it). Counted in the default cache: shared by all web processes in
# production (Redis), per process with the local-memory cache.
LOGIN_RATE_LIMIT_FAILURES = env.int("LOGIN_RATE_LIMIT_FAILURES", default=5)
LOGIN_RATE_LIMIT_WINDOW_S = env.int("LOGIN_RATE_LIMIT_WINDOW_S", default=15 * 60)
