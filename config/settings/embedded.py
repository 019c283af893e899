"""The embedded default: one machine, no servers. SQLite and Kombu's filesystem transport, so
`make run` needs nothing installed by hand. Not for production: DEBUG on, a local secret."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

RIGHTSIZE_EMBEDDED = True
EVAL_DEFAULT_DEVICE = env.str("EVAL_DEFAULT_DEVICE", default="cpu")  # no GPU on a laptop
DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="embedded-demo-only-not-a-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rightsize.sqlite3'}"),
}
DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web app and the worker write to one file: wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)

_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(_BROKER_DIR / "queue"),
    "data_folder_out": str(_BROKER_DIR / "queue"),
    "processed_folder": str(_BROKER_DIR / "processed"),
    "control_folder": str(_BROKER_DIR / "control"),  # else kombu writes ./control
    "store_processed": False,
}
for _folder in ("queue", "processed", "control"):
    (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)

# Notices of the decision watch are printed where `make run` runs, not sent.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
