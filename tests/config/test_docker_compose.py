"""docker-compose.yml describes the production-like stack; no Docker engine runs here, so its
structure is checked instead."""

from pathlib import Path

import pytest
import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _command(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else command.split()


def _option(service: str, name: str) -> str:
    for part in _command(service):
        if part.startswith(f"--{name}="):
            return part.split("=", 1)[1]
    raise AssertionError(f"{service} has no --{name}")


def test_every_service_is_there():
    assert set(SERVICES) == {
        "postgres", "redis", "web", "worker-cpu", "worker-gpu", "beat", "flower",
    }  # fmt: skip


@pytest.mark.parametrize("service", ["web", "worker-cpu", "worker-gpu", "flower"])
def test_app_services_wait_for_healthy_postgres_and_redis(service):
    depends = SERVICES[service]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    env = SERVICES[service]["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["CELERY_BROKER_URL"].startswith("redis://")
    assert ":?" in env["DJANGO_SECRET_KEY"]  # required, no default


def test_web_runs_gunicorn():
    assert "gunicorn config.wsgi:application" in SERVICES["web"]["command"]


def test_the_gpu_worker_reserves_a_gpu_and_runs_one_job_at_a_time():
    devices = SERVICES["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert _option("worker-gpu", "queues") == "gpu"
    assert _option("worker-gpu", "concurrency") == "1"
    assert _option("worker-gpu", "prefetch-multiplier") == "1"


def test_the_cpu_worker_takes_the_other_queues():
    queues = _option("worker-cpu", "queues").split(",")
    assert "gpu" not in queues
    assert {"cpu", "api"} <= set(queues)
    assert _option("worker-cpu", "prefetch-multiplier") == "1"


def test_flower_watches_the_workers():
    assert _command("flower")[:4] == ["celery", "-A", "config", "flower"]


def test_data_lives_in_volumes():
    assert "postgres-data" in COMPOSE["volumes"]
    assert any("postgres-data" in v for v in SERVICES["postgres"]["volumes"])
