import pytest
from django.conf import settings

from accounts import roles

from .factories import UserFactory

ROLE_USERNAMES = {
    roles.PROJECT_MANAGERS: "pm",
    roles.ENGINEERS: "engineer",
    roles.CATALOG_ADMINS: "admin",
}
PASSWORD = "a-long-test-password"


def pytest_report_header(config):
    database = "PostgreSQL" if settings.POSTGRES_AVAILABLE else "SQLite (PostgreSQL did not answer)"
    broker = "Redis" if settings.REDIS_AVAILABLE else "filesystem (Redis did not answer)"
    return f"rightsize: database {database}, broker {broker}"


@pytest.fixture
def project_manager(db):
    return UserFactory(username="pm", role=roles.PROJECT_MANAGERS)


@pytest.fixture
def engineer(db):
    return UserFactory(username="engineer", role=roles.ENGINEERS)


@pytest.fixture
def catalog_admin(db):
    return UserFactory(username="admin", role=roles.CATALOG_ADMINS)


@pytest.fixture
def user_with_role(db):
    def make(role: str):
        return UserFactory(username=ROLE_USERNAMES[role], role=role)

    return make


from .evaluations.worker import eval_worker, slow_task_dir  # noqa: E402, F401  (shared fixtures)
