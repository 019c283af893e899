"""Hostile input: no input yields a server error, invalid input yields a message.

Property-based (hypothesis) on every form and API endpoint, then one test per upload hazard
(size, type, encoding, archives, deep nesting), escaping, and CSRF on every form."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zipfile

import pytest
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluations.models import DomainEvalSet, EvalJob, EvalRun

from ..evaluations.factories import EvalJobFactory
from ..factories import LanguageModelFactory, UserFactory
from .conftest import CATALOG_ADMIN, ENGINEER, GROUPS, PROJECT_MANAGER, XSS, make_actor

pytestmark = pytest.mark.django_db

# The same examples on every run (no flaky CI); RIGHTSIZE_FUZZ_EXAMPLES=500 for a deeper look.
FUZZ = settings(
    max_examples=int(os.environ.get("RIGHTSIZE_FUZZ_EXAMPLES", "40")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any text a browser can send, NUL and lone surrogates' replacements included.
TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
HOSTILE = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "\x00",
            "'; DROP TABLE x;--",
            XSS,
            "../../etc/passwd",
            "%00",
            "\ud7ff",
            "9" * 400,
            "-1",
            "1e999",
            "NaN",
            "[]",
            "{}",
            "\u202e",
        ]
    ),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def engineer():
    return make_actor(ENGINEER)


@pytest.fixture
def pm():
    return make_actor(PROJECT_MANAGER)


@pytest.fixture
def model():
    return LanguageModelFactory(key="fuzz-model", name="Fuzz Model")


def _ok_unless_nul(*values) -> int:
    """200, or 400 for an address holding NUL (accounts/request_checks.py)."""
    text = json.dumps(values, default=str)
    return 400 if "\\u0000" in text else 200


def _no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]


def _shows_an_error(response) -> None:
    page = response.content.decode()
    assert 'class="error' in page or "errorlist" in page, page[:3000]


# ---------------------------------------------------------------- GET filters


CATALOG_FILTERS = ("size_class", "weights", "licence", "commercial_use", "family", "search", "sort")


@FUZZ
@given(params=st.dictionaries(st.sampled_from(CATALOG_FILTERS), HOSTILE, max_size=7))
def test_catalog_filters_never_fail(params, model, pm):
    client = pm.client
    page = client.get(reverse("catalog:model-list"), params)
    fragment = client.get(
        reverse("catalog:model-list"),
        params,
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="catalog-table",
    )
    for response in (page, fragment):
        assert response.status_code == _ok_unless_nul(params)


@FUZZ
@given(
    page=st.sampled_from(["evaluations:job-list", "evaluations:matrix", "evaluations:job-compare"]),
    params=st.dictionaries(
        st.sampled_from(
            [
                "model",
                "status",
                "task",
                "engineer",
                "size_class",
                "weights",
                "jobs",
                "format",
                "page",
            ]
        ),
        HOSTILE,
        max_size=5,
    ),
)
def test_evaluation_filters_never_fail(page, params, model, pm):
    response = pm.client.get(reverse(page), params)

    assert response.status_code == _ok_unless_nul(params)


@FUZZ
@given(key=HOSTILE.filter(lambda k: k and "/" not in k))
def test_model_pages_take_any_key(key, model, pm):
    client = pm.client
    for name in ("catalog:model-detail", "evaluations:model-runs"):
        response = client.get(reverse(name, kwargs={"key": key}))
        assert response.status_code in ((200, 404) if "\x00" not in key else (400,))


# ---------------------------------------------------------------- forms

JOB_FIELDS = (
    "model",
    "backend",
    "model_args",
    "tasks",
    "device",
    "num_fewshot",
    "limit",
    "batch_size",
    "seed",
    "apply_chat_template",
    "priority",
    "force",
)


@FUZZ
@given(data=st.dictionaries(st.sampled_from(JOB_FIELDS), HOSTILE, max_size=len(JOB_FIELDS)))
def test_the_job_form_never_fails_and_explains_what_it_refuses(data, model, engineer):
    data.setdefault("model", model.key)
    response = engineer.client.post(reverse("evaluations:job-create"), data)

    _no_server_error(response)
    if response.status_code == 200:
        _shows_an_error(response)
    else:
        assert response.status_code == 302 and EvalJob.objects.exists()


@FUZZ
@given(
    files=st.lists(st.tuples(HOSTILE, st.binary(max_size=300)), min_size=1, max_size=3),
    chosen=st.one_of(st.none(), HOSTILE),
)
def test_the_import_form_never_fails(files, chosen, model, engineer):
    uploads = [SimpleUploadedFile(_file_name(name), data) for name, data in files]
    form = {"files": uploads, **({"model": chosen} if chosen is not None else {})}
    response = engineer.client.post(reverse("evaluations:import"), form)

    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    assert 'class="error' in page or "status-failed" in page or "status-succeeded" in page
    assert not EvalRun.objects.exists()  # nothing random is a result file


def _file_name(name: str) -> str:
    """`name`, or "f" where Django's test upload refuses the name itself (".", "a/..")."""
    try:
        SimpleUploadedFile(name, b"")
    except SuspiciousFileOperation:
        return "f"
    return name


@FUZZ
@given(name=HOSTILE, description=HOSTILE, data=st.binary(max_size=300))
def test_the_domain_set_form_never_fails(name, description, data, engineer):
    response = engineer.client.post(
        reverse("evaluations:domain-sets"),
        {"name": name, "description": description, "file": SimpleUploadedFile("s.jsonl", data)},
    )

    _no_server_error(response)
    if response.status_code == 200:
        _shows_an_error(response)
    else:
        assert DomainEvalSet.objects.filter(name=name.strip()).exists()


@FUZZ
@given(name=HOSTILE)
def test_the_token_form_never_fails(name, engineer):
    response = engineer.client.post(reverse("accounts:token-list"), {"name": name})

    assert response.status_code == 200
    if 'id="new-token"' not in response.content.decode():
        _shows_an_error(response)


@FUZZ
@given(username=HOSTILE, password=HOSTILE, page=st.sampled_from(["login", "admin:login"]))
def test_the_login_forms_never_fail(username, password, page):
    cache.clear()  # the rate limit would answer 429 after five examples
    response = Client().post(reverse(page), {"username": username, "password": password})

    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


# ---------------------------------------------------------------- the JSON API


@FUZZ
@given(body=JSON)
def test_any_json_body_to_post_jobs_gets_a_4xx_with_a_detail(body, model, engineer):
    response = engineer.api("post", "/api/jobs", body)

    assert 400 <= response.status_code < 500, response.content[:500]
    assert "detail" in response.json()


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "backend": HOSTILE,
            "tasks": st.lists(HOSTILE, max_size=3),
            "model_args": st.dictionaries(
                HOSTILE, st.one_of(HOSTILE, st.integers(), st.booleans(), st.floats()), max_size=3
            ),
            "num_fewshot": st.integers(),
            "limit": st.integers(),
            "batch_size": st.integers(),
            "seed": st.integers(),
            "device": HOSTILE,
            "priority": st.integers(),
            "apply_chat_template": st.booleans(),
            "force": st.booleans(),
        },
    )
)
def test_job_specs_near_the_schema_never_fail(fields, model, engineer):
    response = engineer.api("post", "/api/jobs", {"model": model.key, "tasks": ["x"], **fields})

    _no_server_error(response)
    if response.status_code >= 400:
        assert response.json()["detail"]


@FUZZ
@given(
    body=st.binary(max_size=200),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "multipart/form-data; boundary=x", ""]
    ),
)
def test_raw_bytes_to_the_api_never_fail(body, content_type, engineer):
    for path in ("/api/jobs", "/api/imports", "/api/domain-sets", "/api/jobs/1/cancel"):
        _no_server_error(engineer.api("post", path, body, content_type=content_type))


# A page number past PostgreSQL's bigint offsets: see test_a_huge_page_number_is_a_4xx.
SANE_PAGE = HOSTILE.filter(lambda v: not (v.strip().isdigit() and int(v) > 10**15))


@FUZZ
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "status": HOSTILE,
            "model": HOSTILE,
            "task": HOSTILE,
            "page": SANE_PAGE,
            "x": HOSTILE,
        },
    )
)
def test_api_query_parameters_never_fail(params, model, engineer):
    EvalJobFactory(model=model)
    response = engineer.api("get", "/api/jobs", params)

    _no_server_error(response)
    if response.status_code >= 400 and response.status_code != 400:
        assert response.json()["detail"]


def test_a_huge_page_number_is_a_4xx(engineer):
    response = engineer.api("get", "/api/jobs?page=" + "9" * 19)

    assert 400 <= response.status_code < 500


# ---------------------------------------------------------------- NUL characters


def test_a_nul_in_the_address_is_a_400_with_a_message(pm, model):
    for url in ("/catalog/?search=%00", "/catalog/models/a%00b/", "/evaluations/jobs/?task=%00"):
        response = pm.client.get(url)
        assert response.status_code == 400
        assert "NUL character" in response.content.decode()


def test_a_nul_in_an_api_json_body_is_a_400_with_a_detail(engineer, model):
    response = engineer.api("post", "/api/jobs", {"model": "x\x00", "tasks": ["t"]})

    assert response.status_code == 400
    assert "NUL character" in response.json()["detail"]


def test_the_text_backslash_u0000_is_not_a_nul(engineer, model):
    response = engineer.api("post", "/api/jobs", {"model": "\\u0000", "tasks": ["t"]})

    assert response.status_code == 422  # an unknown model, not a refused request


def test_a_nul_in_an_api_form_field_is_a_4xx(engineer):
    upload = SimpleUploadedFile("s.jsonl", b'{"question": "q", "answer": "a"}\n')

    response = engineer.api(
        "post", "/api/domain-sets", {"name": "a\x00", "file": upload}, multipart=True
    )

    assert 400 <= response.status_code < 500


# ---------------------------------------------------------------- uploads, case by case


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("results.json", data)
    return buffer.getvalue()


# A bomb in miniature: 20 MB of zeros in a few kilobytes. Unpacked, it would be over the limit.
BOMB = b"{" + b" " * 20_000_000 + b"}"
ARCHIVES = {
    "zip": ("results.zip", _zip(BOMB), "a zip archive"),
    "gzip": ("results.json.gz", gzip.compress(BOMB), "gzip-compressed"),
}
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("kind", sorted(ARCHIVES))
def test_an_archive_is_refused_on_the_web_not_unpacked(kind, engineer):
    name, data, what = ARCHIVES[kind]
    assert len(data) < 100_000

    imported = engineer.client.post(
        reverse("evaluations:import"), {"files": [SimpleUploadedFile(name, data)]}
    )
    domain = engineer.client.post(
        reverse("evaluations:domain-sets"),
        {"name": "bomb", "file": SimpleUploadedFile(name, data)},
    )

    for response in (imported, domain):
        assert response.status_code == 200
        assert f"{name} is {what}: archives are not unpacked here" in response.content.decode()
    assert not EvalRun.objects.exists() and not DomainEvalSet.objects.exists()


@pytest.mark.parametrize("kind", sorted(ARCHIVES))
def test_an_archive_is_refused_by_the_api_not_unpacked(kind, engineer):
    name, data, _ = ARCHIVES[kind]

    imported = engineer.api(
        "post", "/api/imports", {"files": [SimpleUploadedFile(name, data)]}, multipart=True
    )
    domain = engineer.api(
        "post",
        "/api/domain-sets",
        {"name": "bomb", "file": SimpleUploadedFile(name, data)},
        multipart=True,
    )

    [outcome] = imported.json()
    assert outcome["status"] == "error" and "not UTF-8 text" in outcome["message"]
    assert domain.status_code == 422 and "not UTF-8 text" in domain.json()["errors"][0]
    assert not EvalRun.objects.exists() and not DomainEvalSet.objects.exists()


def test_an_archive_declared_by_its_type_is_refused(engineer):
    upload = SimpleUploadedFile("results.json", b'{"results": {}}', "application/zip")

    response = engineer.client.post(reverse("evaluations:import"), {"files": [upload]})

    assert "an archive (application/zip)" in response.content.decode()


def test_a_binary_type_is_refused(engineer):
    upload = SimpleUploadedFile("set.jsonl", b"\x89PNG\r\n", "image/png")

    response = engineer.client.post(
        reverse("evaluations:domain-sets"), {"name": "png", "file": upload}
    )

    assert "set.jsonl is image/png, not a UTF-8 text file" in response.content.decode()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(engineer, settings):
    settings.IMPORT_MAX_BYTES = 1000
    big = b'{"results": {}, "pad": "' + b"x" * 2000 + b'"}'

    web = engineer.client.post(
        reverse("evaluations:import"), {"files": [SimpleUploadedFile("big.json", big)]}
    )
    api = engineer.api(
        "post", "/api/imports", {"files": [SimpleUploadedFile("big.json", big)]}, multipart=True
    )
    domain_api = engineer.api(
        "post",
        "/api/domain-sets",
        {"name": "big", "file": SimpleUploadedFile("b.jsonl", big)},
        multipart=True,
    )

    assert "big.json is 2.0 KB, over the 1000 bytes limit" in web.content.decode() or (
        "over the" in web.content.decode() and "limit" in web.content.decode()
    )
    assert "over the" in api.json()[0]["message"]
    assert domain_api.status_code == 422 and "over the" in domain_api.json()["errors"][0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("é".encode("latin-1") + b'{"results": {}}', "not UTF-8 text"),
        (b'{"results": {', "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (DEEP, "not valid JSON (nested too deeply)"),
    ],
    ids=["latin-1", "truncated", "not-an-object", "100k-deep"],
)
def test_bad_result_files_get_a_clear_message_on_the_web_and_the_api(data, message, engineer):
    web = engineer.client.post(
        reverse("evaluations:import"), {"files": [SimpleUploadedFile("r.json", data)]}
    )
    api = engineer.api(
        "post", "/api/imports", {"files": [SimpleUploadedFile("r.json", data)]}, multipart=True
    )

    assert web.status_code == 200 and message in web.content.decode()
    assert api.status_code == 200 and message in api.json()[0]["message"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("é".encode("latin-1") + b"\n", "not UTF-8 text"),
        (b'{"question": "q", "answer"\n', "not valid JSON"),
        (DEEP + b"\n", "not valid JSON (nested too deeply)"),
    ],
    ids=["latin-1", "bad-json", "100k-deep"],
)
def test_bad_domain_sets_get_a_clear_message_on_the_web_and_the_api(data, message, engineer):
    web = engineer.client.post(
        reverse("evaluations:domain-sets"), {"name": "bad", "file": SimpleUploadedFile("s", data)}
    )
    api = engineer.api(
        "post",
        "/api/domain-sets",
        {"name": "bad", "file": SimpleUploadedFile("s", data)},
        multipart=True,
    )

    assert web.status_code == 200 and message in web.content.decode()
    assert api.status_code == 422 and message in api.json()["errors"][0]


def test_a_deeply_nested_api_body_is_refused_not_a_server_error(engineer):
    response = engineer.api("post", "/api/jobs", DEEP, content_type="application/json")

    assert 400 <= response.status_code < 500


# ---------------------------------------------------------------- escaping


def test_names_and_descriptions_stay_text_on_every_page(world):
    """An XSS attempt in a model name and a domain set's name and description is shown as
    text on every page that shows them, the admin's included."""
    from advisor.services import recommendation_create

    from ..advisor import use_case_data

    world.model.name = world.model.family = world.model.organisation = XSS
    world.model.save()
    world.domain_set.name = world.domain_set.description = XSS
    world.domain_set.save()
    EvalJobFactory(model=world.model, error=XSS, status="failed")
    recommendation = recommendation_create(owner=world.owner, data=use_case_data(name=XSS))
    admin = make_actor(CATALOG_ADMIN)
    pages = [
        reverse("catalog:model-list"),
        reverse("catalog:model-list") + f"?search={XSS}",
        reverse("catalog:model-detail", args=[world.model.key]),
        reverse("evaluations:job-list"),
        reverse("evaluations:job-detail", args=[world.queued_job.pk]),
        reverse("evaluations:job-compare") + f"?jobs={world.queued_job.pk},{world.failed_job.pk}",
        reverse("evaluations:run-detail", args=[world.imported_run.pk]),
        reverse("evaluations:model-runs", args=[world.model.key]),
        reverse("evaluations:matrix"),
        reverse("evaluations:domain-sets"),
        reverse("evaluations:job-create"),
        reverse("advisor:recommendation", args=[recommendation.slug]),
        reverse("advisor:recommendation-list"),
        reverse("admin:catalog_languagemodel_changelist"),
        reverse("admin:catalog_languagemodel_change", args=[world.model.pk]),
        reverse("admin:audit_auditentry_changelist"),
    ]
    shown = 0
    for url in pages:
        response = admin.client.get(url, follow=True)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert XSS not in page, f"{url} shows the script unescaped"
        shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert shown >= len(pages) - 2  # the escaped text is there: the test looked at the right pages


# ---------------------------------------------------------------- CSRF

# Every form post on the site, as (URL name, URL arguments, data).
FORM_POSTS = [
    ("login", {}, {"username": "x", "password": "y"}),
    ("logout", {}, {}),
    ("password_change", {}, {}),
    ("accounts:token-list", {}, {"name": "t"}),
    ("evaluations:job-create", {}, {"model": "x"}),
    ("evaluations:import", {}, {}),
    ("evaluations:domain-sets", {}, {"name": "x"}),
    ("advisor:advise", {}, {"name": "x"}),
    ("admin:catalog_source_add", {}, {"key": "x"}),
]


def _csrf_client(role: str = CATALOG_ADMIN) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=GROUPS[role]))
    return client


@pytest.mark.parametrize(("name", "kwargs", "data"), FORM_POSTS, ids=[p[0] for p in FORM_POSTS])
def test_a_form_post_without_the_csrf_token_is_refused(name, kwargs, data):
    response = _csrf_client().post(reverse(name, kwargs=kwargs), data)

    assert response.status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "evaluations:job-cancel",
        "evaluations:job-retry",
        "accounts:token-revoke",
        "advisor:recommendation-rerun",
        "advisor:queue-evaluations",
    ],
)
def test_a_button_post_without_the_csrf_token_is_refused(name):
    response = _csrf_client().post(reverse(name, args=[_any_arg(name)]), HTTP_HX_REQUEST="true")

    assert response.status_code == 403


def _any_arg(name: str):
    return "00000000-0000-0000-0000-000000000000" if name.startswith("advisor") else 1


def test_an_htmx_post_with_the_token_from_hx_headers_succeeds(world):
    client = _csrf_client(ENGINEER)
    page = client.get(reverse("evaluations:job-detail", args=[world.queued_job.pk]))
    headers = json.loads(re.search(r"hx-headers='([^']+)'", page.content.decode())[1])

    refused = client.post(
        reverse("evaluations:job-cancel", args=[world.queued_job.pk]), HTTP_HX_REQUEST="true"
    )
    accepted = client.post(
        reverse("evaluations:job-cancel", args=[world.queued_job.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=headers["X-CSRFToken"],
    )

    assert refused.status_code == 403
    assert accepted.status_code == 302
    world.queued_job.refresh_from_db()
    assert world.queued_job.status == "cancelled"


def test_the_api_needs_no_csrf_token_but_a_bearer_token(engineer, model):
    """Tokens are not sent by browsers on their own, so the API is not open to CSRF; and a
    session cookie alone does not open it."""
    session_only = _csrf_client(ENGINEER).post("/api/jobs", "{}", content_type="application/json")

    assert session_only.status_code == 401
    assert engineer.api("post", "/api/jobs", {"model": model.key, "tasks": []}).status_code == 422
