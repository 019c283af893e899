"""Security headers: a content security policy that htmx works under, no framing, no sniffing;
HSTS, secure cookies and a shared cache in production."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from django.urls import reverse

from ..config.test_settings import PRODUCTION_ENV, ROOT
from .conftest import CATALOG_ADMIN, ENGINEER, make_actor
from .test_permission_matrix import EXPECTED

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def test_pages_carry_a_strict_content_security_policy(client):
    policy = _policy(client.get(reverse("login")))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"][0] == "'self'"
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    everything = " ".join(v for values in policy.values() for v in values)
    assert "'unsafe-inline'" not in everything and "'unsafe-eval'" not in everything


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/catalog/", "/api/jobs", "/admin/login/", "/api/docs"]
)
def test_every_response_forbids_framing_and_sniffing(client, path):
    client.force_login(make_actor(ENGINEER).user)

    response = client.get(path)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" in response


def _inline_code(html: str) -> list[str]:
    """Inline scripts (other than JSON data blocks), <style> elements, style attributes and
    event-handler attributes: everything script-src/style-src 'self' refuses."""
    found = [
        m[0][:80]
        for m in re.finditer(
            r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", html
        )
    ]
    found += re.findall(r"<style\b[^>]*>", html)
    found += [m[:80] for m in re.findall(r"\sstyle=\"[^\"]*\"", html) if "border-top: 0" not in m]
    found += re.findall(r"\son[a-z]+=\"[^\"]*\"", html)
    return found


def test_no_page_has_inline_script_or_style(world):
    """Every GET page in the permission matrix, as a catalog admin, without inline code that
    the policy would block (the browser test checks the console as well)."""
    from .test_permission_matrix import _call, url_names

    pages = [
        name
        for name, expect in EXPECTED.items()
        if expect.method == "get" and not expect.api and not name.startswith("password_reset")
    ] + [
        "admin:index",
        "admin:catalog_languagemodel_changelist",
        "admin:catalog_languagemodel_add",
        "admin:catalog_languagemodel_change",
        "admin:audit_auditentry_changelist",
    ]
    from .test_permission_matrix import expectation

    offenders = {}
    for name in pages:
        pattern = url_names()[name]
        response = _call(expectation(name, pattern), CATALOG_ADMIN, world, name, pattern)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            found = _inline_code(response.content.decode())
            if found:
                offenders[name] = found
    assert not offenders, offenders


def test_htmx_is_served_from_our_static_files_without_inline_styles(client):
    page = client.get(reverse("login")).content.decode()

    assert re.search(r'<script src="/static/django_htmx/htmx-2\.min\.js"', page)
    assert '"includeIndicatorStyles": false' in page


def _production(code: str) -> str:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env={**env, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_sends_hsts_and_secure_cookies_and_shares_its_cache():
    out = _production(
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS,"
        " s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )

    assert out.split() == ["31536000", "True", "True", "True", "True", "DENY", "RedisCache"]
