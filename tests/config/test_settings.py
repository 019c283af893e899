"""Settings per environment, checked in fresh processes so each module loads as it would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-a-long-random-production-secret",
    "DATABASE_URL": "postgres://rightsize@db.internal:5432/rightsize",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "DJANGO_ALLOWED_HOSTS": "rightsize.example.org",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_passes_the_deployment_checks():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOWED_HOSTS"]
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "sqlite:///tmp/x.sqlite3", "must point at PostgreSQL"),
        ("CELERY_BROKER_URL", "filesystem://", "must point at Redis"),
    ],
)
def test_production_refuses_the_embedded_backends(name, value, message):
    result = _manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_embedded_default_needs_no_server(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.RIGHTSIZE_EMBEDDED)"
    )
    result = _manage("shell", "-v", "0", "-c", code, env={"RIGHTSIZE_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "True"]


def test_tests_use_postgresql_and_redis_when_they_answer():
    if os.environ.get("CI") or (settings.POSTGRES_AVAILABLE and settings.REDIS_AVAILABLE):
        # In CI both must be there: a silent fallback would hide the real components.
        assert connection.vendor == "postgresql"
        assert settings.CELERY_BROKER_URL.startswith("redis://")
    else:
        pytest.skip("PostgreSQL or Redis does not answer on this machine")


def test_celery_is_configured_for_long_jobs():
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_reject_on_worker_lost is True


@pytest.mark.skipif(not settings.REDIS_AVAILABLE, reason="Redis does not answer")
def test_the_broker_is_a_real_redis():
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.transport.driver_type == "redis"
        channel = conn.default_channel
        channel.client.set("rightsize-test-key", "1", ex=5)
        assert channel.client.get("rightsize-test-key") == b"1"
