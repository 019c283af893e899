"""Test settings: the real PostgreSQL and Redis of this machine and CI whenever they answer.

DATABASE_URL and CELERY_BROKER_URL override the defaults. When a server does not answer, the suite
falls back to SQLite / the filesystem broker and says so once, so a laptop without servers still
runs the parts that need neither; CI has both and so tests against the real ones."""

import socket
import sys
from urllib.parse import urlparse

from .base import *  # noqa: F403
from .base import VAR_DIR, env


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


SECRET_KEY = "test-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
RIGHTSIZE_EMBEDDED = False
EVAL_DEFAULT_DEVICE = "cpu"

_DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/rightsize")
_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
POSTGRES_AVAILABLE = _answers(_DATABASE_URL, 5432)
REDIS_AVAILABLE = _answers(_BROKER_URL, 6379)

if POSTGRES_AVAILABLE:
    DATABASES = {"default": env.db_url_config(_DATABASE_URL)}
else:
    print("rightsize tests: PostgreSQL does not answer; using SQLite", file=sys.stderr)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

if REDIS_AVAILABLE:
    CELERY_BROKER_URL = _BROKER_URL
else:
    print("rightsize tests: Redis does not answer; using the filesystem broker", file=sys.stderr)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "test-broker"),
        "data_folder_out": str(VAR_DIR / "test-broker"),
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The login rate limit counts in the cache; tests that fail logins clear it (tests/security).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "rightsize-tests",
    }
}
