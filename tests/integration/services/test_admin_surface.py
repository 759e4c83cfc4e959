"""Issue 22, item 14, item 15b and a leftover: what an attack run found around the admin
surface and /metrics.

- Item 14: the admin JSON API answered on the public api port, its answers could be kept
  by a browser or a proxy, and ``/metrics`` was open to anyone who reached the dashboard's
  port. The admin API is the dashboard's now (docs/contract.md §1), on the api only with
  ``PARLEY_ADMIN_API_ON_PUBLIC=1`` (otherwise a 404, as if it did not exist); every admin
  answer carries ``Cache-Control: no-store`` (§4); ``PARLEY_METRICS_TOKEN`` puts ``/metrics``
  behind a bearer token (§2, §7).
- Item 15b: a labelled counter or histogram had no series until its first use, so an alert
  on it (``increase(parley_akismet_requests_total{outcome="invalid_key"}[10m])``) saw
  nothing, and the first error was never counted as an increase. Every known label value is
  at 0 from a process's start, in multiprocess mode too.
- Leftover: a NUL in a path reached PostgreSQL, which refuses it in text, and the answer was
  the false "database unavailable" 503 (logged as such). Any path holding NUL is a 404 and
  any query parameter holding NUL a 422 naming it, before a view runs.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.api import create_app as create_api
from services.dashboard import create_app as create_dashboard
from services.metrics_view import create_metrics_app
from shared.config import load_settings, settings_env
from tests.support.factories import ADMIN, ADMIN_TOKEN, GOOD, held, put_article
from tests.support.procs import probe

ARTICLE = {"title": "Talks", "url": "https://news.example/talks"}
# (method, path, JSON body) of every admin operation.
ADMIN_CALLS = [
    ("PUT", "/api/v1/admin/articles/talks", ARTICLE),
    ("GET", "/api/v1/admin/comments", None),
    ("GET", "/api/v1/admin/comments/c1", None),
    ("POST", "/api/v1/admin/comments/c1/actions", {"action": "approve"}),
    ("GET", "/api/v1/admin/rules", None),
    ("GET", "/api/v1/admin/quality", None),
]


# --- item 14: the admin API on the dashboard only ----------------------------------------------


def test_the_admin_api_is_not_on_the_public_api_by_default(client, container):
    assert container.settings.admin_api_on_public is False
    absent = client.get("/api/v1/no-such-thing")
    assert absent.status_code == 404
    for method, path, body in ADMIN_CALLS:
        for headers in (ADMIN, {}):
            response = client.open(path, method=method, json=body, headers=headers)
            # As if absent: the same answer as any path the api does not have.
            assert response.status_code == 404, (method, path, response.status_code)
            assert response.get_json() == absent.get_json(), (method, path)
            assert "WWW-Authenticate" not in response.headers
            assert response.headers.get("Cache-Control") == absent.headers.get("Cache-Control")


def test_the_admin_api_is_on_the_dashboard(admin_client):
    response = put_article(admin_client, "talks", **ARTICLE)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert admin_client.get("/api/v1/admin/comments", headers=ADMIN).status_code == 200
    assert admin_client.get("/api/v1/admin/comments").status_code == 401


def test_the_public_api_serves_it_when_asked(make_container):
    client = create_api(make_container(admin_api_on_public=True)).test_client()
    assert put_article(client, "talks", **ARTICLE).status_code == 201
    assert put_article(client, "talks", "wrong", **ARTICLE).status_code == 401
    assert client.get("/api/v1/admin/comments", headers=ADMIN).status_code == 200


@pytest.mark.parametrize(
    ("raw", "on_public"),
    [(None, False), ("0", False), ("1", True), ("true", True), ("off", False)],
)
def test_admin_api_on_public_is_read_from_the_environment(raw, on_public):
    environ = {} if raw is None else {"PARLEY_ADMIN_API_ON_PUBLIC": raw}
    settings = load_settings(environ)
    assert settings.admin_api_on_public is on_public
    # A child process started with this process's settings gets the same answer.
    assert load_settings(settings_env(settings)).admin_api_on_public is on_public


def test_every_admin_answer_is_no_store(admin_client, client, container):
    answers = {
        "created": put_article(admin_client, "talks", **ARTICLE),
        "updated": put_article(admin_client, "talks", **ARTICLE),
        "no token": admin_client.get("/api/v1/admin/comments"),
        "wrong token": put_article(admin_client, "talks", "wrong", **ARTICLE),
        "list": admin_client.get("/api/v1/admin/comments", headers=ADMIN),
        "unknown comment": admin_client.get("/api/v1/admin/comments/nope", headers=ADMIN),
        "bad body": admin_client.put(
            "/api/v1/admin/articles/talks", data="{", content_type="application/json", headers=ADMIN
        ),
        "field errors": put_article(admin_client, "talks", title=""),
        "bad action": admin_client.post(
            "/api/v1/admin/comments/x/actions", json={"action": "delete"}, headers=ADMIN
        ),
        "no such admin path": admin_client.get("/api/v1/admin/nothing", headers=ADMIN),
        "method not allowed": admin_client.delete("/api/v1/admin/comments", headers=ADMIN),
    }
    cid = held(container, client, "talks")
    answers["record"] = admin_client.get(f"/api/v1/admin/comments/{cid}", headers=ADMIN)
    answers["rejected"] = admin_client.post(
        f"/api/v1/admin/comments/{cid}/actions", json={"action": "reject"}, headers=ADMIN
    )
    answers["conflict"] = admin_client.post(
        f"/api/v1/admin/comments/{cid}/actions", json={"action": "reject"}, headers=ADMIN
    )
    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "created": 201,
        "updated": 200,
        "no token": 401,
        "wrong token": 401,
        "list": 200,
        "unknown comment": 404,
        "bad body": 400,
        "field errors": 422,
        "bad action": 422,
        "no such admin path": 404,
        "method not allowed": 405,
        "record": 200,
        "rejected": 200,
        "conflict": 409,
    }
    kept = {
        name: response.headers.get("Cache-Control")
        for name, response in answers.items()
        if response.headers.get("Cache-Control") != "no-store"
    }
    assert not kept, f"admin answers a browser or proxy may keep: {kept}"


def test_no_store_on_the_public_api_too_when_it_serves_the_admin_api(make_container):
    client = create_api(make_container(admin_api_on_public=True)).test_client()
    for response in (
        put_article(client, "talks", **ARTICLE),
        client.get("/api/v1/admin/comments"),
        client.get("/api/v1/admin/comments/nope", headers=ADMIN),
    ):
        assert response.headers.get("Cache-Control") == "no-store"
    # Only the admin API's: the public reads keep their own caching (ETag, 304).
    assert client.get("/api/v1/articles/talks").headers.get("Cache-Control") != "no-store"


# --- item 14: /metrics behind an optional bearer token ----------------------------------------


def test_metrics_are_open_without_a_token(dash_app, container):
    assert container.settings.metrics_token is None
    response = dash_app.test_client().get("/metrics")
    assert response.status_code == 200
    assert "parley_comments_submitted_total" in response.get_data(as_text=True)


@pytest.mark.parametrize("factory", [create_dashboard, create_metrics_app])
def test_metrics_token_is_required_when_set(make_container, factory):
    client = factory(make_container(metrics_token="scrape-me-7")).test_client()
    refused = [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer scrape-me-"},
        {"Authorization": "Bearer scrape-me-77"},
        {"Authorization": "Basic c2NyYXBlLW1lLTc="},
        {"Authorization": "scrape-me-7"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}"},  # the admin token is not the scraper's
    ]
    for headers in refused:
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), headers
        assert response.mimetype == "application/problem+json"
        assert "parley_" not in response.get_data(as_text=True)
    for scheme in ("Bearer", "bearer"):
        response = client.get("/metrics", headers={"Authorization": f"{scheme} scrape-me-7"})
        assert response.status_code == 200
        assert "parley_comments_submitted_total" in response.get_data(as_text=True)
    # The health checks stay open: orchestrators call them without credentials.
    assert client.get("/healthz").status_code == 200


def test_metrics_token_is_read_from_the_environment():
    assert load_settings({}).metrics_token is None
    assert load_settings({"PARLEY_METRICS_TOKEN": " t0ken "}).metrics_token == "t0ken"


# --- item 15b: every known series exists, at 0, from a process's start ------------------------

DECISIONS = ("published", "held", "spam", "discarded")
# What shared/spam.py records: comment-check's verdicts, "ok" for the two feedback calls, and
# the error kinds of spam._classify for all three.
ERRORS = ("timeout", "network", "http_5xx", "http_status", "protocol", "invalid_key", "config")
AKISMET = {
    "comment-check": ("ham", "spam", "discard", *ERRORS),
    "submit-ham": ("ok", *ERRORS),
    "submit-spam": ("ok", *ERRORS),
}
FRESH_SCRAPE = """
import sys
from shared.ops import collector
collector.use_host_qualified_ids()  # as gunicorn's config and the Celery entrypoint do
from services.dashboard import create_app
response = create_app().test_client().get("/metrics")
assert response.status_code == 200, response.status_code
sys.stdout.write(response.get_data(as_text=True))
"""


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def expected_zeros() -> list[tuple[str, dict]]:
    expected = [("parley_comments_decided_total", {"decision": d}) for d in DECISIONS]
    for endpoint, outcomes in AKISMET.items():
        expected += [
            ("parley_akismet_requests_total", {"endpoint": endpoint, "outcome": outcome})
            for outcome in outcomes
        ]
        expected += [
            ("parley_akismet_request_seconds_count", {"endpoint": endpoint}),
            ("parley_akismet_request_seconds_sum", {"endpoint": endpoint}),
            ("parley_akismet_request_seconds_bucket", {"endpoint": endpoint, "le": "+Inf"}),
            ("parley_akismet_request_seconds_bucket", {"endpoint": endpoint, "le": "0.1"}),
        ]
    return expected


@pytest.mark.parametrize("multiprocess", [False, True], ids=["one-process", "multiprocess"])
def test_a_fresh_process_shows_every_known_series_at_zero(container, tmp_path, multiprocess):
    extra = {}
    if multiprocess:
        (tmp_path / "metrics").mkdir()
        extra["PROMETHEUS_MULTIPROC_DIR"] = tmp_path / "metrics"
    scraped = samples(probe(FRESH_SCRAPE, **settings_env(container.settings), **extra))
    missing = [
        (name, labels)
        for name, labels in expected_zeros()
        if (name, tuple(sorted(labels.items()))) not in scraped
    ]
    assert not missing, f"series absent from a fresh /metrics: {missing}"
    for name, labels in expected_zeros():
        assert scraped[(name, tuple(sorted(labels.items())))] == 0, (name, labels)


# --- leftover: NUL in a path or a query parameter ---------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/comments/a%00b"),
        ("POST", "/api/v1/admin/comments/a%00b/actions"),
        ("PUT", "/api/v1/admin/articles/a%00b"),
        ("PUT", "/api/v1/admin/rules/a%00b"),
        ("GET", "/api/v1/admin/no%00where"),
    ],
)
def test_an_admin_path_with_a_nul_is_a_404(backend, admin_client, method, path):
    body = {"action": "approve", "mode": "on", **ARTICLE}
    response = admin_client.open(path, method=method, json=body, headers=ADMIN)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("path", ["/articles/a%00b", "/articles/a%00b?cursor=x", "/a%00b"])
def test_a_page_path_with_a_nul_is_a_404(backend, client, path):
    response = client.get(path)
    assert response.status_code == 404, response.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_dashboard_path_with_a_nul_is_a_404(backend, admin):
    assert admin.get("/admin/queue/he%00ld").status_code == 404
    response = admin.post_form("/admin/comments/a%00b/action", {"action": "approve"})
    assert response.status_code == 404, response.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_query_parameter_with_a_nul_is_a_422_naming_it(
    backend, client, admin_client, admin, article
):
    for app_client, path, headers in [
        (client, f"/api/v1/articles/{article}/comments", {}),
        (client, f"/articles/{article}", {}),
        (client, "/api/v1/comments/x", {}),
        (admin_client, "/api/v1/admin/comments", ADMIN),
        (admin.client, "/admin/queue/held", {}),
        (admin.client, "/admin/activity", {}),
    ]:
        for name in ("cursor", "q", "anything"):
            response = app_client.get(path, query_string={name: "a\x00b"}, headers=headers)
            assert response.status_code == 422, (path, name, response.status_code)
            assert response.get_json()["errors"] == {name: ["must not contain NUL"]}, path


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_comment_posted_to_a_query_with_a_nul_is_refused_and_not_stored(
    backend, client, container, article
):
    response = client.post(f"/api/v1/articles/{article}/comments?x=%00", json=GOOD)
    assert response.status_code == 422
    with container.stores.moderation() as session:
        from shared.models import Comment

        assert session.query(Comment).count() == 0


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_no_false_database_error_is_logged(backend, client, admin_client, caplog):
    caplog.set_level("ERROR")
    client.get("/articles/a%00b")
    admin_client.get("/api/v1/admin/comments/a%00b", headers=ADMIN)
    assert not [r for r in caplog.records if r.getMessage() == "database unavailable"]


# --- found by the OpenAPI fuzzing once it reached the admin API on the dashboard --------------


@pytest.mark.parametrize("action", [{"x": 1}, ["approve"], 1, None, True])
def test_an_action_that_is_not_a_string_is_a_422(admin_client, action):
    # A JSON object or array as the action was looked up in a dict: unhashable, a 500.
    response = admin_client.post(
        "/api/v1/admin/comments/x/actions", json={"action": action}, headers=ADMIN
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "action" in response.get_json()["errors"]
