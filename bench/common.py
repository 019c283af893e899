"""Shared set-up for benchmarks: Django on the real PostgreSQL, in a database of their own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATABASE = "rightsize_bench"


def setup_django() -> None:
    """Configure Django for a benchmark: test settings, database `rightsize_bench` (created and
    migrated if missing), Redis db 14."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE])
        if not found.fetchone():
            conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def machine() -> str:
    import platform

    python = platform.python_version()
    return f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {python}"
