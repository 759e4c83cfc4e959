"""The privacy endpoints over HTTP (docs/contract.md §4): the admin token, the address in
the path however it is spelled or encoded, the answers' shape and headers, and the
dashboard's Privacy page (admins, CSRF, a typed confirmation)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from shared.models import AuditLog, Comment
from shared.moderation import pipeline
from shared.validation import validate_comment
from tests.support.factories import ADMIN, status_of, submit_in_process

pytestmark = pytest.mark.timeout(120)


def path(address: str, export: bool = True) -> str:
    tail = "/export" if export else ""
    return f"/api/v1/admin/authors/{quote(address, safe='')}{tail}"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/admin/authors/a@example.org/export"),
        ("delete", "/api/v1/admin/authors/a@example.org"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_without_the_admin_token_401(admin_client, method, url, headers):
    response = getattr(admin_client, method)(url, headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"


def test_export_over_http(admin_client, container, article):
    cid = submit_in_process(container, article, "Hello there, a comment.", email="Zoë@Example.org")
    response = admin_client.get(path("zoë@EXAMPLE.org"), headers=ADMIN)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.get_data(as_text=True))
    assert [c["id"] for c in body["comments"]] == [cid]
    assert body["comments"][0]["user_ip"] == "198.51.100.4"
    empty = admin_client.get(path("nobody@example.org"), headers=ADMIN)
    assert empty.status_code == 200
    nothing = json.loads(empty.get_data(as_text=True))
    assert nothing["comments"] == [] and nothing["published_comments"] == []


def test_erase_over_http_with_its_actor(admin_client, container, article, client):
    cid = submit_in_process(
        container, article, "A kind word for everyone.", email="a/b@example.org"
    )
    pipeline.check_comment(container, cid)
    assert status_of(container, cid) == "published"
    response = admin_client.delete(
        path("A/B@example.org", export=False), headers={**ADMIN, "X-Parley-Actor": "dpo@news"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert {
        k: body[k] for k in ("comments_erased", "published_removed", "published_anonymised")
    } == {
        "comments_erased": 1,
        "published_removed": 1,
        "published_anonymised": 0,
    }
    assert status_of(container, cid) == "erased"
    listed = client.get(f"/api/v1/articles/{article}/comments").get_json()["comments"]
    assert cid not in [c["id"] for c in listed]
    with container.stores.moderation_read() as session:
        actors = session.scalars(
            sa.select(AuditLog.actor).where(AuditLog.action == "author.erase")
        ).all()
    assert actors == ["dpo@news"]


def test_anonymise_over_http(admin_client, container, article, client):
    cid = submit_in_process(
        container,
        article,
        "Stays, without a name.",
        email="anon@example.org",
        author_url="https://me.example",
    )
    pipeline.check_comment(container, cid)
    response = admin_client.delete(
        path("anon@example.org", export=False) + "?published=anonymise", headers=ADMIN
    )
    assert response.get_json()["published_anonymised"] == 1
    listed = client.get(f"/api/v1/articles/{article}/comments").get_json()["comments"]
    shown = next(c for c in listed if c["id"] == cid)
    assert (shown["author_name"], shown["author_url"]) == ("deleted", None)
    assert shown["content"] == "Stays, without a name."


@pytest.mark.parametrize("mode", ["remove", "", "DELETE", "anonymize"])
def test_a_bad_published_mode_is_422(admin_client, mode):
    response = admin_client.delete(
        path("a@example.org", export=False) + f"?published={mode}", headers=ADMIN
    )
    if mode == "":
        assert response.status_code == 200  # empty = the default, delete
        return
    assert response.status_code == 422
    assert response.get_json()["errors"]["published"]


@pytest.mark.parametrize("address", ["x" * 255 + "@example.org", " ", "a\u0007b@example.org"])
def test_an_address_nothing_can_be_stored_under_is_422(admin_client, address):
    for method, url in (("get", path(address)), ("delete", path(address, export=False))):
        response = getattr(admin_client, method)(url, headers=ADMIN)
        assert response.status_code == 422, (method, address)
        assert response.get_json()["errors"]["email"]


def _ascii_case_variant(address: str) -> str:
    return "".join(ch.upper() if ch.isascii() and ch.islower() else ch for ch in address)


local_parts = st.text(
    st.characters(categories=["Ll", "Lu", "Lo", "Nd"], include_characters="._+-/!#$%&'*=?^`{|}~"),
    min_size=1,
    max_size=30,
)
addresses = st.one_of(
    st.emails(),
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        local_parts,
        st.sampled_from(["example.org", "Bücher.Example", "xn--bcher-kva.example", "例え.jp"]),
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(address=addresses)
@example(address="o'brien+news@example.org")
@example(address="a%2Fb@example.org")
@example(address="Ünïcödé@Bücher.Example")
def test_any_stored_address_is_found_however_it_is_sent(admin_client, container, article, address):
    """Hypothesis: an address the intake accepts is exported and erased by its path, sent
    percent-encoded, with its ASCII letters in another case, and (IDNA) its domain in the
    other form."""
    clean, errors = validate_comment({"author_name": "H", "author_email": address, "content": "x"})
    assume(not errors)
    stored = clean.author_email
    cid = submit_in_process(
        container, article, f"Property comment {abs(hash(address))}.", email=address
    )
    for spelling in (address, _ascii_case_variant(address)):
        response = admin_client.get(path(spelling), headers=ADMIN)
        assert response.status_code == 200, (spelling, response.get_data(as_text=True))
        found = [c["id"] for c in json.loads(response.get_data(as_text=True))["comments"]]
        assert cid in found, (spelling, stored)
    response = admin_client.delete(path(_ascii_case_variant(address), export=False), headers=ADMIN)
    assert response.status_code == 200
    assert response.get_json()["comments_erased"] >= 1
    with container.stores.moderation_read() as session:
        row = session.get(Comment, cid)
        assert row.status == "erased" and row.author_email == ""


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.text(min_size=1, max_size=300))
def test_any_path_is_answered_never_a_500(admin_client, raw):
    """Hypothesis: whatever follows ``authors/`` gets an answer (a 308 when a leading "/"
    makes a double slash, which werkzeug merges), never a server error."""
    for method, url in (("get", path(raw)), ("delete", path(raw, export=False))):
        response = getattr(admin_client, method)(url, headers=ADMIN)
        assert response.status_code in (200, 308, 404, 405, 422), (
            method,
            raw,
            response.status_code,
        )


# --- the dashboard's Privacy page ---------------------------------------------------------


def test_privacy_page_is_for_admins(admin, moderator):
    assert admin.get("/admin/privacy").status_code == 200
    assert moderator.get("/admin/privacy").status_code == 403


def test_dashboard_export_and_erase_with_confirmation(admin, container, article):
    cid = submit_in_process(
        container, article, "From the dashboard, thanks.", email="dash@example.org"
    )
    refused = admin.client.post("/admin/privacy/export", data={"email": "dash@example.org"})
    assert refused.status_code == 400  # no CSRF token
    response = admin.post_form("/admin/privacy/export", {"email": "DASH@example.org"})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert [c["id"] for c in json.loads(response.get_data(as_text=True))["comments"]] == [cid]
    wrong = admin.post_form(
        "/admin/privacy/erase",
        {"email": "dash@example.org", "confirm": "other@example.org", "published": "delete"},
    )
    assert wrong.status_code == 303 and status_of(container, cid) == "received"
    done = admin.post_form(
        "/admin/privacy/erase",
        {"email": "dash@example.org", "confirm": "Dash@Example.org", "published": "delete"},
        follow_redirects=True,
    )
    assert "Erased 1 comments" in done.get_data(as_text=True)
    assert status_of(container, cid) == "erased"
    # A tombstone is no moderation work: in no queue, and in the admin list only when
    # asked for by status; the activity log says who erased it.
    assert admin.get("/admin/queue/erased").status_code == 404
    every = admin.client.get("/api/v1/admin/comments", headers=ADMIN).get_json()["comments"]
    assert cid not in [c["id"] for c in every]
    erased = admin.client.get("/api/v1/admin/comments?status=erased", headers=ADMIN)
    assert [c["id"] for c in erased.get_json()["comments"]] == [cid]
    activity = admin.get("/admin/activity?action=erase").get_data(as_text=True)
    assert "admin@news.example" in activity and "erased" in activity
    with container.stores.moderation_read() as session:
        actors = session.scalars(
            sa.select(AuditLog.actor).where(AuditLog.action.in_(["author.erase", "author.export"]))
        ).all()
    assert set(actors) == {"admin@news.example"}
