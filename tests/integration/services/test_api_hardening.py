"""Issue 22, items 8, 9 and 10: what an attack run found in the public and admin APIs.

- Item 8: a cursor or a date that parses but cannot be used (a time before year 1 or after
  year 9999 once in UTC, a day after the last one) was a 500 with a traceback, on the
  public comment list (no login needed), the admin list and the dashboard's filters. Any
  text there is now a 4xx at worst (docs/contract.md §3, §4).
- Item 9: the ``Host`` header was written into the 202's ``status_url`` and ``Location``
  and the OpenAPI document's ``servers``; they come from ``PARLEY_SITE_URL`` now.
- Item 10: an ``Idempotency-Key`` reused with another body (or on another article) replayed
  the first comment's 202 and dropped the new text, and keys were compared by their first
  255 characters. The reuse is a 422 now (docs/contract.md §3), and a key is compared whole.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.api import create_app
from services.dashboard import create_app as create_dashboard
from shared import textnorm
from shared.intake.submit import IdempotencyConflict, RequestMeta, submit_comment
from shared.models import Comment
from tests.support.factories import ADMIN, GOOD, put_article, stored_comment_row

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a query string can carry (a lone surrogate cannot be encoded as UTF-8 at all).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
OFFSETS = st.builds(
    timezone,
    st.timedeltas(
        min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
    ),
)
# Times anywhere in what Python can write, in any offset or none: the edges are the bugs.
STAMPS = st.one_of(
    st.datetimes(timezones=st.none() | OFFSETS).map(datetime.isoformat),
    st.dates().map(date.isoformat),
    TEXT,
)


def cursor_of(stamp: str, id_: str) -> str:
    """A cursor as the APIs write one, around any stamp and id."""
    raw = f"{stamp}|{id_}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSORS = st.one_of(TEXT, st.builds(cursor_of, STAMPS, TEXT))
EDGES = [
    cursor_of("0001-01-01T00:00:00+01:00", "x"),  # before year 1 in UTC
    cursor_of("9999-12-31T23:59:59-01:00", "x"),  # after year 9999 in UTC
    cursor_of("2026-01-01T00:00:00+00:00", "a\x00b"),  # NUL: PostgreSQL refuses it
]


def comments_in_db(container) -> list[Comment]:
    with container.stores.moderation() as session:
        return list(session.scalars(sa.select(Comment).order_by(Comment.created_at)))


def refused_as_field(response, field: str) -> None:
    """A 422 problem naming ``field`` in its ``errors``."""
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


# --- item 8: out-of-range dates in cursors and filters --------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("cursor", EDGES)
def test_a_cursor_out_of_range_is_a_422(backend, client, admin_client, article, cursor):
    public = client.get(f"/api/v1/articles/{article}/comments", query_string={"cursor": cursor})
    refused_as_field(public, "cursor")
    admin = admin_client.get(
        "/api/v1/admin/comments", query_string={"cursor": cursor}, headers=ADMIN
    )
    refused_as_field(admin, "cursor")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_any_cursor_is_answered_without_a_server_error(backend, client, admin_client, article):
    @PROPERTY
    @given(cursor=CURSORS)
    @example(cursor=EDGES[0])
    @example(cursor=EDGES[1])
    @example(cursor=EDGES[2])
    def answered(cursor):
        public = client.get(f"/api/v1/articles/{article}/comments", query_string={"cursor": cursor})
        assert public.status_code in (200, 304) or 400 <= public.status_code < 500, cursor
        admin = admin_client.get(
            "/api/v1/admin/comments", query_string={"cursor": cursor}, headers=ADMIN
        )
        assert admin.status_code == 200 or 400 <= admin.status_code < 500, cursor

    answered()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(
    ("path", "args"),
    [
        ("/admin/api/poll", {"status": "held", "since": "0001-01-01T00:00:00+05:00"}),
        ("/admin/api/poll", {"status": "held", "since": "9999-12-31T23:59:59-05:00"}),
        ("/admin/activity", {"before": "0001-01-01T00:00:00+05:00"}),
        ("/admin/activity", {"to": "9999-12-31"}),
    ],
)
def test_a_dashboard_date_out_of_range_is_a_422(backend, admin, path, args):
    response = admin.get(path, query_string=args)
    assert response.status_code == 422, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_any_dashboard_date_or_cursor_is_answered_without_a_server_error(backend, admin):
    @PROPERTY
    @given(stamp=STAMPS, cursor=CURSORS)
    @example(stamp="9999-12-31", cursor=EDGES[0])
    @example(stamp="0001-01-01T00:00:00+05:00", cursor=EDGES[2])
    def answered(stamp, cursor):
        for path, args in [
            ("/admin/api/poll", {"status": "held", "since": stamp}),
            ("/admin/activity", {"from": stamp}),
            ("/admin/activity", {"to": stamp}),
            ("/admin/activity", {"before": stamp}),
            ("/admin/queue/held", {"cursor": cursor}),
        ]:
            response = admin.get(path, query_string=args)
            assert response.status_code < 500, (path, args)

    answered()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_filter_with_a_nul_is_a_422_not_a_store_error(backend, admin_client, article):
    # PostgreSQL refuses NUL in text: it was the "store unavailable" 503.
    response = admin_client.get(
        "/api/v1/admin/comments", query_string={"q": "a\x00b"}, headers=ADMIN
    )
    refused_as_field(response, "q")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/comments/a%00b",
        "/api/v1/articles/a%00b",
        "/api/v1/articles/a%00b/comments",
        "/api/v1/articles/a%00b/form-token",
    ],
)
def test_a_public_path_with_a_nul_is_a_404_not_a_store_error(backend, client, path):
    assert client.get(path).status_code == 404
    if path.endswith("/comments"):
        assert client.post(path, json=GOOD).status_code == 404


# --- item 9: the Host header never makes a URL ----------------------------------------------

SITE = "https://comments.news.example"


@pytest.fixture
def site_client(make_container, client, article):
    """The api of a stack whose ``PARLEY_SITE_URL`` is :data:`SITE` (``article`` is
    registered in the shared store)."""
    return create_app(make_container(site_url=SITE)).test_client()


def test_status_url_and_location_are_on_the_configured_site(site_client, article, container):
    response = site_client.post(
        f"/api/v1/articles/{article}/comments", json=GOOD, headers={"Host": "evil.example"}
    )
    assert response.status_code == 202
    cid = response.get_json()["id"]
    assert response.get_json()["status_url"] == f"{SITE}/api/v1/comments/{cid}"
    assert response.headers["Location"] == f"{SITE}/api/v1/comments/{cid}"


def test_the_form_posts_redirect_stays_on_the_site(site_client, article):
    response = site_client.post(
        f"/api/v1/articles/{article}/comments", data=GOOD, headers={"Host": "evil.example"}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "evil.example" not in location
    assert location.startswith((f"{SITE}/", "/")) and not location.startswith("//")
    assert location.endswith(f"/articles/{article}#comment-pending")


def test_openapi_names_the_configured_site(site_client):
    spec = site_client.get("/api/v1/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert spec["servers"] == [{"url": SITE}]


# --- item 10: an Idempotency-Key names one request ------------------------------------------


def post(client, slug, body, key, **headers):
    return client.post(
        f"/api/v1/articles/{slug}/comments", json=body, headers={"Idempotency-Key": key, **headers}
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_key_reused_with_another_text_is_a_422_and_keeps_the_first(
    backend, client, article, container
):
    first = post(client, article, GOOD, "key-1")
    assert first.status_code == 202
    other = post(client, article, dict(GOOD, content="Something else entirely."), "key-1")
    refused_as_field(other, "Idempotency-Key")
    [row] = comments_in_db(container)
    assert row.id == first.get_json()["id"] and row.content == GOOD["content"]


def test_a_key_reused_on_another_article_is_a_422(client, admin_client, article, container):
    put_article(admin_client, "other-story", title="Other", url="https://news.example/other")
    assert post(client, article, GOOD, "key-2").status_code == 202
    refused_as_field(post(client, "other-story", GOOD, "key-2"), "Idempotency-Key")
    assert len(comments_in_db(container)) == 1


def test_a_retry_of_the_same_request_replays_the_first_answer(client, article, container):
    first = post(client, article, GOOD, "key-3")
    # The same comment once trimmed: the same request.
    again = post(client, article, dict(GOOD, content=f"  {GOOD['content']}\n"), "key-3")
    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json()
    assert len(comments_in_db(container)) == 1


def test_keys_are_compared_whole_and_a_key_too_long_is_refused(client, article, container):
    stem = "k" * 255
    assert post(client, article, GOOD, stem).status_code == 202
    # Truncated to 255 characters, this key was the first one: its text was dropped.
    longer = post(client, article, dict(GOOD, content="A different comment."), stem + "-2")
    refused_as_field(longer, "Idempotency-Key")
    assert [row.content for row in comments_in_db(container)] == [GOOD["content"]]


def test_the_store_keeps_no_key_as_sent(client, article, container):
    # Stored as a digest: a key with a NUL (from a form) reaches no text column, and a key
    # that a client chose is not kept as it chose it.
    assert post(client, article, GOOD, "secret-ish key").status_code == 202
    [row] = comments_in_db(container)
    assert row.idempotency_key and "secret-ish" not in row.idempotency_key


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_race_on_one_key_with_two_texts_is_a_422_for_the_loser(backend, container, article):
    meta = RequestMeta(user_ip="198.51.100.9", idempotency_key="raced")
    first = submit_comment(container, article, dict(GOOD), meta)
    # The other request had looked the key up before the first was stored: the store's
    # unique key refuses it, and the answer says why.
    with pytest.raises(IdempotencyConflict):
        submit_comment(
            container, article, dict(GOOD, content="Another text."), meta, replay_checked=True
        )
    again = submit_comment(container, article, dict(GOOD), meta, replay_checked=True)
    assert again.id == first.id and again.replayed
    assert len(comments_in_db(container)) == 1


# The revision that turns the stored keys into their digests.
KEY_DIGEST_REVISION = "mod0008"


def test_a_key_stored_before_the_upgrade_still_replays(tmp_path, make_container):
    from alembic.script import ScriptDirectory

    from shared.migrate import alembic_config, upgrade_store

    url = f"sqlite:///{tmp_path}/parley.db"
    script = ScriptDirectory.from_config(alembic_config("moderation", url))
    upgrade_store("moderation", url, script.get_revision(KEY_DIGEST_REVISION).down_revision)
    upgrade_store("articles", url)
    engine = sa.create_engine(url)
    comments = sa.Table("comments", sa.MetaData(), autoload_with=engine)
    first = stored_comment_row(
        id="0" * 31 + "1",
        author_name=GOOD["author_name"],
        author_email=GOOD["author_email"],
        content=GOOD["content"],
        fingerprint=textnorm.fingerprint(GOOD["author_email"], GOOD["content"]),
        content_hash=textnorm.content_hash(GOOD["content"]),
        idempotency_key="sent-before-the-upgrade",
    )
    with engine.begin() as conn:
        conn.execute(sa.insert(comments), first)
    engine.dispose()
    upgrade_store("moderation", url)

    parley = make_container(database_url=url, article_store_url=url)
    client = create_app(parley).test_client()
    put_article(
        create_dashboard(parley).test_client(),
        "istanbul-talks",
        title="Istanbul",
        url="https://news.example/it",
    )
    again = post(client, "istanbul-talks", GOOD, "sent-before-the-upgrade")
    assert again.status_code == 202 and again.get_json()["id"] == first["id"]
    other = post(client, "istanbul-talks", dict(GOOD, content="Changed."), first["idempotency_key"])
    refused_as_field(other, "Idempotency-Key")
