"""Reader reports (docs/contract.md §3 ``POST /api/v1/comments/{id}/reports``, issue 25
item 3): the answers, the threshold that unpublishes and holds exactly once under
concurrent reports, a moderator's approval clearing them, the event, the metric and the
rate limit under a concurrent burst, on SQLite and PostgreSQL (one database or two)."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.api import create_app
from shared import commenter
from shared.models import CommentHistory, CommentReport
from tests.support.factories import ADMIN, decided, letters, open_article, public_ids, status_of
from tests.support.metrics import scrape, value

ALL = ["sqlite", "sqlite-split", "postgres", "postgres-split"]
ONE_DB_EACH = ["sqlite", "postgres"]


def report(client, cid: str, ip: str = "198.51.100.1", headers=None, **body):
    body.setdefault("reason", "spam")
    return client.post(
        f"/api/v1/comments/{cid}/reports",
        json=body,
        headers=headers or {},
        environ_base={"REMOTE_ADDR": ip},
    )


def published(container, client, slug: str, n: int = 0) -> str:
    cid = decided(
        container,
        client,
        slug,
        content=f"A calm and kind remark, number {letters(n)}.",
        author_email=f"writer{n}@example.org",
    )
    assert status_of(container, cid) == "published"
    return cid


def events_of(redis_client, cid: str) -> list[str]:
    return [f["type"] for _, f in redis_client.xrange("parley:events") if f["comment_id"] == cid]


def record(admin_client, cid: str) -> dict:
    response = admin_client.get(f"/api/v1/admin/comments/{cid}", headers=ADMIN)
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_threshold_unpublishes_and_holds(
    backend, container, client, admin_client, article, redis_client
):
    cid = published(container, client, article)
    other = published(container, client, article, 1)
    assert report(client, cid, "198.51.100.1", reason="spam").status_code == 202
    second = report(client, cid, "198.51.100.2", reason="abuse", note="  Insults a  reader. ")
    assert second.status_code == 202
    assert second.get_json() == {"comment_id": cid, "counted": True}
    # The same reader again: counted nothing.
    again = report(client, cid, "198.51.100.1", reason="abuse")
    assert again.status_code == 200 and again.get_json()["counted"] is False
    assert status_of(container, cid) == "published" and cid in public_ids(container)

    assert report(client, cid, "198.51.100.3", reason="spam").status_code == 202
    assert status_of(container, cid) == "held"
    assert public_ids(container) == [other]
    listed = client.get(f"/api/v1/articles/{article}/comments").get_json()["comments"]
    assert [c["id"] for c in listed] == [other]
    assert client.get(f"/api/v1/comments/{cid}").get_json()["status"] == "pending"

    body = record(admin_client, cid)
    reason = [r for r in body["reasons"] if r["rule"] == "reader_reports"]
    assert len(reason) == 1
    assert reason[0]["reports"] == {"spam": 2, "abuse": 1} and reason[0]["count"] == 3
    assert reason[0]["detail"] == "3 reader reports: spam 2, abuse 1"
    hold = body["history"][-1]
    assert (hold["actor"], hold["action"], hold["from"], hold["to"]) == (
        "readers",
        "reader_reports",
        "published",
        "held",
    )
    assert body["reports"]["open"] == 3 and body["reports"]["reasons"] == {"spam": 2, "abuse": 1}
    assert body["reports"]["notes"][0]["note"] == "Insults a  reader."
    assert events_of(redis_client, cid)[-5:] == [
        "comment.reported",
        "comment.reported",
        "comment.reported",
        "comment.unpublished",
        "comment.held",
    ]
    # Held now: no longer reportable (a reader who reported before is still told so).
    assert report(client, cid, "198.51.100.4").status_code == 404
    assert report(client, cid, "198.51.100.3").status_code == 200


def test_unknown_and_unpublished_comments_are_404(container, client, article):
    held_one = decided(
        container, client, article, content="Visit http://a.example and http://b.example now"
    )
    assert status_of(container, held_one) == "held"
    for cid in ("0" * 32, "nope", "x" * 33, held_one, "%C3%A9t%C3%A9"):
        response = report(client, cid)
        assert response.status_code == 404, cid
        assert response.mimetype == "application/problem+json"


def test_field_errors_are_422_and_form_posts_count(container, client, article):
    cid = published(container, client, article)
    for body, field in (
        ({"reason": "boring"}, "reason"),
        ({"reason": None}, "reason"),
        ({}, "reason"),
        ({"reason": "spam", "note": "x" * 501}, "note"),
        ({"reason": "spam", "note": "bell \x07"}, "note"),
        ({"reason": "spam", "note": 5}, "note"),
        ({"reason": "spam", "commenter_token": ["x"]}, "commenter_token"),
    ):
        response = client.post(f"/api/v1/comments/{cid}/reports", json=body)
        assert response.status_code == 422, body
        assert response.mimetype == "application/problem+json"
        assert field in response.get_json()["errors"], body
    # 500 characters after trimming and NFC are fine; a note of newlines and tabs too.
    assert report(client, cid, "203.0.113.1", note=" " + "e\u0301" * 500 + " ").status_code == 202
    assert report(client, cid, "203.0.113.2", note="line one\n\tline two").status_code == 202
    form = client.post(
        f"/api/v1/comments/{cid}/reports",
        data={"reason": "off-topic", "note": "Not about the talks."},
        environ_base={"REMOTE_ADDR": "203.0.113.3"},
    )
    assert form.status_code == 202
    assert (
        client.post(
            f"/api/v1/comments/{cid}/reports", data=b"{", content_type="application/json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/api/v1/comments/{cid}/reports", data="spam", content_type="text/plain"
        ).status_code
        == 415
    )
    with container.stores.moderation() as session:
        notes = session.scalars(select(CommentReport.note).order_by(CommentReport.id)).all()
    assert notes == ["\u00e9" * 500, "line one\n\tline two", "Not about the talks."]


def test_the_reader_is_the_commenter_token_else_the_ip(container, client, article):
    cid = published(container, client, article)
    token = commenter.issue("test-secret", "reader-key-one")
    header = {commenter.HEADER: token}
    # One token from two addresses: one reader.
    assert report(client, cid, "192.0.2.1", headers=header).status_code == 202
    assert report(client, cid, "192.0.2.2", headers=header).status_code == 200
    # The same token in the body is the same reader.
    assert report(client, cid, "192.0.2.3", commenter_token=token).status_code == 200
    # Another token from the first address: another reader.
    other = {commenter.HEADER: commenter.issue("test-secret", "reader-key-two")}
    assert report(client, cid, "192.0.2.1", headers=other).status_code == 202
    # A token Parley did not sign is no identity: the reader is the IP (192.0.2.9, new).
    forged = {commenter.HEADER: commenter.issue("another-secret", "reader-key-three")}
    assert report(client, cid, "192.0.2.9", headers=forged).status_code == 202
    assert report(client, cid, "192.0.2.9").status_code == 200
    with container.stores.moderation() as session:
        rows = session.execute(select(CommentReport.reader_kind, CommentReport.reader_key)).all()
    assert [kind for kind, _ in rows] == ["commenter", "commenter", "ip"]
    # The commenter's key as their comments store it; never a raw address.
    assert rows[0][1] == commenter.author_key("reader-key-one")
    assert all("192.0.2" not in key and len(key) == 64 for _, key in rows)


def burst(app, cid: str, ips: list[str], headers=None) -> list:
    """Report ``cid`` from each of ``ips`` at the same moment, each on a client of its own."""
    clients = [app.test_client() for _ in ips]
    start = threading.Barrier(len(ips))

    def one(i: int):
        start.wait()
        return report(clients[i], cid, ips[i], headers=headers, reason=("spam", "abuse")[i % 2])

    with ThreadPoolExecutor(len(ips)) as pool:
        return list(pool.map(one, range(len(ips))))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ONE_DB_EACH, indirect=True)
def test_concurrent_reports_hold_exactly_once(backend, make_container, redis_client):
    container = make_container(report_threshold=3)
    app = create_app(container)
    client = app.test_client()
    slug = _article(container)
    cid = published(container, client, slug)
    answers = burst(app, cid, [f"198.51.100.{i}" for i in range(1, 13)])
    codes = Tally(a.status_code for a in answers)
    # The comment is held by the third; who comes after finds it unpublished.
    assert codes == {202: 3, 404: 9}, codes
    assert status_of(container, cid) == "held" and cid not in public_ids(container)
    with container.stores.moderation() as session:
        holds = session.scalars(
            select(CommentHistory.action).where(
                CommentHistory.comment_id == cid, CommentHistory.action == "reader_reports"
            )
        ).all()
        assert len(holds) == 1
        assert len(session.scalars(select(CommentReport.id)).all()) == 3
    # At least once: concurrent relays may send an event twice, always with its event_id.
    sent = {
        (f["type"], f["event_id"])
        for _, f in redis_client.xrange("parley:events")
        if f["comment_id"] == cid
    }
    types = Tally(type_ for type_, _ in sent)
    assert (types["comment.reported"], types["comment.held"], types["comment.unpublished"]) == (
        3,
        1,
        1,
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ONE_DB_EACH, indirect=True)
def test_concurrent_duplicates_count_once(backend, make_container):
    container = make_container(report_threshold=50)
    app = create_app(container)
    slug = _article(container)
    cid = published(container, app.test_client(), slug)
    answers = burst(app, cid, ["198.51.100.7"] * 12)
    assert Tally(a.status_code for a in answers) == {202: 1, 200: 11}
    token = {commenter.HEADER: commenter.issue("test-secret", "one-reader")}
    answers = burst(app, cid, [f"203.0.113.{i}" for i in range(12)], headers=token)
    assert Tally(a.status_code for a in answers) == {202: 1, 200: 11}
    with container.stores.moderation() as session:
        assert len(session.scalars(select(CommentReport.id)).all()) == 2


def _article(container) -> str:
    return open_article(
        container.stores, "istanbul-talks", "Istanbul talks", "https://news.example/t"
    )


@pytest.mark.parametrize("backend", ONE_DB_EACH, indirect=True)
def test_approval_clears_reports_and_new_ones_count_afresh(
    backend, container, client, admin_client, article, redis_client
):
    cid = published(container, client, article)
    for i in range(3):
        assert report(client, cid, f"198.51.100.{i}").status_code == 202
    assert status_of(container, cid) == "held"
    listed = admin_client.get("/api/v1/admin/comments?reported=1", headers=ADMIN).get_json()
    assert [c["id"] for c in listed["comments"]] == [cid]

    approve = admin_client.post(
        f"/api/v1/admin/comments/{cid}/actions", json={"action": "approve"}, headers=ADMIN
    )
    assert approve.status_code == 200 and status_of(container, cid) == "published"
    assert cid in public_ids(container)
    body = record(admin_client, cid)
    assert body["reports"]["open"] == 0 and body["reports"]["cleared"] == 3
    assert (
        admin_client.get("/api/v1/admin/comments?reported=1", headers=ADMIN).get_json()["comments"]
        == []
    )
    assert (
        admin_client.get("/api/v1/admin/comments?reported=maybe", headers=ADMIN).status_code == 422
    )

    # The same readers: their reports were answered; they count nothing.
    for i in range(3):
        assert report(client, cid, f"198.51.100.{i}").status_code == 200
    # New readers count from zero: two are not enough, the third holds it again.
    assert report(client, cid, "203.0.113.1").status_code == 202
    assert report(client, cid, "203.0.113.2").status_code == 202
    assert status_of(container, cid) == "published"
    assert report(client, cid, "203.0.113.3", reason="other").status_code == 202
    assert status_of(container, cid) == "held" and cid not in public_ids(container)
    reasons = [r for r in record(admin_client, cid)["reasons"] if r["rule"] == "reader_reports"]
    assert len(reasons) == 1 and reasons[0]["reports"] == {"spam": 2, "other": 1}


def test_each_counted_report_is_metered_by_reason(container, client, article):
    cid = published(container, client, article)
    before = scrape(container)
    assert report(client, cid, "198.51.100.1", reason="off-topic").status_code == 202
    assert report(client, cid, "198.51.100.1", reason="off-topic").status_code == 200
    assert report(client, cid, "198.51.100.2", reason="abuse").status_code == 202
    after = scrape(container)
    for reason, added in (("off-topic", 1), ("abuse", 1), ("spam", 0), ("other", 0)):
        assert (
            value(after, "parley_reports_total", reason=reason)
            - value(before, "parley_reports_total", reason=reason)
            == added
        ), reason
    assert ("parley_reports_total", (("reason", "other"),)) in after  # there from the start


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ONE_DB_EACH, indirect=True)
def test_rate_limit_is_exact_under_a_burst(backend, make_container):
    container = make_container(report_rate_limit="4/minute", report_threshold=1000)
    app = create_app(container)
    slug = _article(container)
    cids = [published(container, app.test_client(), slug, n) for n in range(12)]
    clients = [app.test_client() for _ in cids]
    start = threading.Barrier(len(cids))

    def one(i: int):
        start.wait()
        return report(clients[i], cids[i], "198.51.100.50")

    with ThreadPoolExecutor(len(cids)) as pool:
        answers = list(pool.map(one, range(len(cids))))
    assert Tally(a.status_code for a in answers) == {202: 4, 429: 8}
    for refused in (a for a in answers if a.status_code == 429):
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert refused.mimetype == "application/problem+json"
    # One reader's token is limited wherever it comes from.
    token = {commenter.HEADER: commenter.issue("test-secret", "busy-reader")}
    codes = [
        report(clients[0], cids[i], f"203.0.113.{i}", headers=token).status_code for i in range(6)
    ]
    assert codes == [202] * 4 + [429] * 2


def test_reports_from_the_widget_pass_cors(make_container):
    app = create_app(make_container(cors_origins=("https://site.example",)))
    response = app.test_client().open(
        "/api/v1/comments/abc/reports",
        method="OPTIONS",
        headers={
            "Origin": "https://site.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, commenter-token",
        },
    )
    assert response.headers["Access-Control-Allow-Origin"] == "https://site.example"
    assert "commenter-token" in response.headers["Access-Control-Allow-Headers"].lower()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.dictionaries(
        st.sampled_from(["reason", "note", "commenter_token", "other"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=600),
            st.sampled_from(["spam", "abuse", "off-topic", "other", " spam "]),
            st.lists(st.text(max_size=3), max_size=2),
        ),
    )
)
def test_any_json_body_gets_a_documented_answer(client_and_cid, body):
    client, cid = client_and_cid
    response = client.post(f"/api/v1/comments/{cid}/reports", json=body)
    assert response.status_code in (200, 202, 422), (body, response.get_data(as_text=True))
    if response.status_code == 422:
        assert response.get_json()["errors"]


@pytest.fixture
def client_and_cid(make_container):
    container = make_container(report_threshold=1000)
    client = create_app(container).test_client()
    slug = _article(container)
    return client, published(container, client, slug)


def test_dashboard_reported_page_shows_reasons_and_notes_and_dismisses(
    container, client, admin, article
):
    held_cid = published(container, client, article)
    for i, note in enumerate(("It is <b>spam</b>", None, "Advert")):
        assert report(client, held_cid, f"198.51.100.{i}", note=note).status_code == 202
    kept_cid = published(container, client, article, 1)
    assert (
        report(client, kept_cid, "203.0.113.1", reason="abuse", note="Rude to Ayşe").status_code
        == 202
    )

    page = admin.client.get("/admin/reported")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/admin/reported"' in html  # in the navigation
    assert html.index(held_cid) < html.index("Published, reported") < html.index(kept_cid)
    assert "It is &lt;b&gt;spam&lt;/b&gt;" in html and "Rude to Ayşe" in html
    assert 'data-count="reported">2<' in html

    kept = admin.post_form(f"/admin/reported/{kept_cid}/dismiss")
    assert kept.status_code == 303
    assert status_of(container, kept_cid) == "published"
    html = admin.client.get("/admin/reported").get_data(as_text=True)
    assert kept_cid not in html and held_cid in html
    with container.stores.moderation() as session:
        actions = session.scalars(
            select(CommentHistory.action).where(CommentHistory.comment_id == kept_cid)
        ).all()
    assert actions[-1] == "dismiss_reports"
    # Kept: the same reader's report does not count again.
    assert report(client, kept_cid, "203.0.113.1").status_code == 200


def test_the_live_queue_keeps_the_reported_count(container, client, admin, article):
    cid = published(container, client, article)
    assert admin.get("/admin/api/poll?status=held").get_json()["counts"]["reported"] == 0
    assert report(client, cid, "198.51.100.1").status_code == 202
    assert admin.get("/admin/api/poll?status=held").get_json()["counts"]["reported"] == 1
