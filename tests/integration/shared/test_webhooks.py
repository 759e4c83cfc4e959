"""Signed webhooks in process (docs/contract.md §4), on SQLite and PostgreSQL: the events of
real status changes reach a real HTTP receiver (tests/support/receiver.py), signed, in
order per comment, retried after failures and a timeout, an endpoint disabled after its
limit, replays of exactly a time range. Attempts run here, as the ``deliver`` process's
tasks would (test_webhooks_worker.py runs that process)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from shared import events
from shared.db import session_scope
from shared.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from shared.models.moderation_store import EventOutbox
from shared.moderation import actions, pipeline
from shared.webhooks import delivery
from tests.support.factories import ADMIN, LINKS, open_article, submit_in_process
from tests.support.receiver import Receiver

SLUG = "istanbul-talks"
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def hooks(make_container):
    container = make_container(
        webhook_allow_private=True,
        webhook_timeout=0.5,
        webhook_retry_seconds=0.05,
        webhook_tick_seconds=0.2,
    )
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    return container


class AdminAPI:
    """The dashboard's admin JSON API on a container, every call with the admin token."""

    def __init__(self, container):
        from services.dashboard import create_app

        self.client = create_app(container).test_client()

    def get(self, path, **kw):
        return self.client.get(path, headers=ADMIN, **kw)

    def post(self, path, **kw):
        return self.client.post(path, headers=ADMIN, **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=ADMIN, **kw)


@pytest.fixture
def api(hooks):
    return AdminAPI(hooks)


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("parley_webhook_deliveries_total", {"outcome": outcome}) or 0


def register(api, receiver, events_=("comment.held", "comment.published"), **extra):
    response = api.post(
        "/api/v1/admin/webhooks", json={"url": receiver.url, "events": list(events_), **extra}
    )
    assert response.status_code == 201, response.text
    body = response.get_json()
    receiver.secret = body["secret"]
    return body


def drain(container, seconds: float = 15.0, until=None) -> None:
    """Run every due attempt, as the deliver process would, until nothing is pending (or
    ``until()`` holds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with container.stores.moderation_read() as session:
            due = session.execute(
                sa.select(WebhookDelivery.id, WebhookDelivery.attempts)
                .where(WebhookDelivery.status == "pending")
                .order_by(WebhookDelivery.id)
            ).all()
        if (until is None and not due) or (until is not None and until()):
            return
        for pk, attempts in due:
            delivery.deliver(container, pk, attempts)
        time.sleep(0.02)
    raise AssertionError("deliveries still pending")


def held_comment(container, n: int) -> str:
    cid = submit_in_process(container, SLUG, f"{LINKS} number {'abcdefgh'[n]}")
    assert pipeline.check_comment(container, cid) == "held"
    return cid


def rows(container) -> list[WebhookDelivery]:
    with container.stores.moderation_read() as session:
        return list(session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_events_reach_the_receiver_signed_with_the_comment(backend, hooks, api, receiver):
    register(api, receiver)
    cid = held_comment(hooks, 0)
    actions.moderate(hooks, cid, "approve", "mod@news.example")
    drain(hooks)
    got = receiver.requests
    assert [r.event["type"] for r in got] == ["comment.held", "comment.published"]
    assert all(r.signed for r in got)
    assert [r.event_header for r in got] == ["comment.held", "comment.published"]
    held, published = (r.event for r in got)
    assert set(held) == {"event_id", "type", "comment_id", "article", "at"}
    assert held["comment_id"] == cid and held["article"] == SLUG and held["at"].endswith("Z")
    assert published["comment"]["id"] == cid
    assert set(published["comment"]) == {
        "id",
        "parent_id",
        "author_name",
        "author_url",
        "content",
        "published_at",
    }
    assert "author_email" not in str(published) and "198.51.100.4" not in str(published)
    assert len({r.delivery for r in got}) == 2
    # Every delivery recorded: status, attempts, code, the answer's first bytes.
    recorded = rows(hooks)
    assert [(r.status, r.attempts, r.last_status_code, r.comment_id) for r in recorded] == [
        ("delivered", 1, 204, cid),
        ("delivered", 1, 204, cid),
    ]
    assert [r.delivery_id for r in recorded] == [r.delivery for r in got]


def test_only_the_types_asked_for(hooks, api, receiver):
    register(api, receiver, events_=["comment.published"])
    cid = held_comment(hooks, 0)
    drain(hooks)
    assert receiver.requests == []
    actions.moderate(hooks, cid, "approve", "mod@news.example")
    drain(hooks)
    assert [r.event["type"] for r in receiver.requests] == ["comment.published"]


def test_receipts_reach_those_who_asked_once(hooks, api, receiver):
    register(api, receiver, events_=["comment.received", "comment.held"])
    cid = held_comment(hooks, 0)
    drain(hooks)
    actions.moderate(hooks, cid, "spam", "mod@news.example")
    drain(hooks)
    types = [r.event["type"] for r in receiver.requests]
    assert types == ["comment.received", "comment.held"]
    receipt = receiver.requests[0].event
    stream = [f for _, f in hooks.redis.xrange(events.STREAM) if f["type"] == "comment.received"]
    assert receipt["event_id"] == stream[0]["event_id"]  # the stream's own id


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_failures_and_a_timeout_are_retried_until_delivered(backend, hooks, api, receiver):
    receiver.fail_first, receiver.hang_once = 2, 1.5
    register(api, receiver)
    before = {o: counted(o) for o in ("delivered", "retry")}
    cid = held_comment(hooks, 0)
    drain(hooks)
    [row] = rows(hooks)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 4, 204)
    assert [r.answered for r in receiver.requests][:2] == [500, 500]
    assert len(receiver.requests) == 4 and all(r.signed for r in receiver.requests)
    assert {r.event["event_id"] for r in receiver.requests} == {
        receiver.requests[0].event["event_id"]
    }
    assert {r.event["comment_id"] for r in receiver.requests} == {cid}
    after = {o: counted(o) for o in ("delivered", "retry")}
    assert after["retry"] - before["retry"] == 3 and after["delivered"] - before["delivered"] == 1


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_in_order_per_comment(backend, hooks, api, receiver):
    """A later event of a comment waits for the earlier one, whatever order the attempts
    are tried in: here every attempt is tried newest first, and the receiver fails the
    first three requests."""
    receiver.fail_first = 3
    register(
        api,
        receiver,
        events_=["comment.held", "comment.published", "comment.unpublished", "comment.spam"],
    )
    ids = [held_comment(hooks, n) for n in range(3)]
    for cid in ids:
        actions.moderate(hooks, cid, "approve", "mod@news.example")
        actions.moderate(hooks, cid, "spam", "mod@news.example")
    deadline = time.monotonic() + 20
    while any(r.status == "pending" for r in rows(hooks)):
        assert time.monotonic() < deadline
        for row in reversed(rows(hooks)):
            if row.status == "pending":
                delivery.deliver(hooks, row.id, row.attempts)
        time.sleep(0.02)
    accepted = receiver.accepted()
    for cid in ids:
        assert [r.event["type"] for r in accepted if r.event["comment_id"] == cid] == [
            "comment.held",
            "comment.published",
            "comment.unpublished",
            "comment.spam",
        ]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_an_endpoint_that_keeps_failing_is_disabled(backend, make_container, api, receiver):
    hooks = make_container(
        webhook_allow_private=True,
        webhook_timeout=0.5,
        webhook_retry_seconds=0.05,
        webhook_deadline_hours=0.5 / 3600,  # half a second of retries
        webhook_disable_after=2,
    )
    open_article(hooks.stores, SLUG, "Talks", "https://news.example/talks")
    api = AdminAPI(hooks)
    receiver.status = 503
    endpoint = register(api, receiver, events_=["comment.held", "comment.spam"])
    first, second = held_comment(hooks, 0), held_comment(hooks, 1)
    drain(hooks)
    assert [r.status for r in rows(hooks)] == ["failed", "failed"]
    assert all(r.last_status_code == 503 for r in rows(hooks))
    [listed] = api.get("/api/v1/admin/webhooks").get_json()["webhooks"]
    assert listed["enabled"] is False
    assert "2 deliveries in a row failed" in listed["disabled_reason"]
    assert "HTTP 503" in listed["disabled_reason"]
    # Disabled: new events are not offered to it; enabled again, they are.
    actions.moderate(hooks, first, "spam", "mod@news.example")
    assert len(rows(hooks)) == 2
    receiver.status = 204
    response = api.post(f"/api/v1/admin/webhooks/{endpoint['id']}/enable")
    assert response.status_code == 200 and response.get_json()["enabled"] is True
    actions.moderate(hooks, second, "spam", "mod@news.example")
    drain(hooks)
    assert [r.status for r in rows(hooks)] == ["failed", "failed", "delivered"]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_replay_resends_exactly_the_range(backend, hooks, api, receiver):
    endpoint = register(api, receiver, events_=["comment.held", "comment.published"])
    early = [held_comment(hooks, n) for n in range(2)]
    time.sleep(0.05)
    since = datetime.now(UTC)
    middle = [held_comment(hooks, n) for n in range(2, 5)]
    time.sleep(0.05)
    until = datetime.now(UTC)
    late = held_comment(hooks, 5)
    drain(hooks)
    sent = {r.event["comment_id"]: r.event["event_id"] for r in receiver.requests}
    assert set(sent) == {*early, *middle, late}
    receiver.requests.clear()
    response = api.post(
        f"/api/v1/admin/webhooks/{endpoint['id']}/replay",
        json={"since": since.isoformat(), "until": until.isoformat().replace("+00:00", "Z")},
    )
    assert response.status_code == 202, response.text
    assert response.get_json() == {"deliveries": 3}
    drain(hooks)
    again = receiver.requests
    assert [r.event["comment_id"] for r in again] == middle  # in order
    assert [r.event["event_id"] for r in again] == [sent[cid] for cid in middle]
    assert all(r.signed for r in again)
    page = api.get(f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries?limit=2")
    body = page.get_json()
    assert [d["replay"] for d in body["deliveries"]] == [True, True] and body["next_cursor"]
    rest = api.get(
        f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries?cursor={body['next_cursor']}"
    ).get_json()
    assert len(body["deliveries"]) + len(rest["deliveries"]) == 9 and rest["next_cursor"] is None


def test_two_relays_of_one_event_fan_out_once(hooks, api, receiver):
    """The fast path and the periodic relay may both send an outbox row; only the one
    whose delete took it offers it to webhooks."""
    register(api, receiver)
    cid = submit_in_process(hooks, SLUG, f"{LINKS} number a")
    # Decide with Redis out of reach, so that the event stays in the outbox.
    cut = hooks.__class__(hooks.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    assert pipeline.check_comment(cut, cid) == "held"
    cut.close()
    threads = [threading.Thread(target=events.relay_pending, args=(hooks,)) for _ in range(2)]
    threads += [
        threading.Thread(target=events.relay_after_commit, args=(hooks, [cid])) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rows(hooks)) == 1
    with hooks.stores.moderation_read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 1
    drain(hooks)
    assert len(receiver.requests) == 1


def outbox_rows(container) -> int:
    with container.stores.moderation_read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(EventOutbox))


def test_a_relay_that_died_between_its_steps_loses_no_delivery(hooks, api, receiver):
    """The relay's steps: the stream, then the delete with the fan-out in one transaction.
    A relay that died after the first step leaves its rows in the outbox; the next one
    sends them again (same event_id) and fans them out, once."""
    register(api, receiver)
    cid = submit_in_process(hooks, SLUG, f"{LINKS} number a")
    cut = hooks.__class__(hooks.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    assert pipeline.check_comment(cut, cid) == "held"  # recorded, not relayed
    cut.close()
    with hooks.stores.moderation_read() as session:
        pending = session.execute(sa.select(EventOutbox)).scalars().all()
    hooks.events.write([events.stream_fields(row) for row in pending])  # step one, then death
    assert rows(hooks) == [] and outbox_rows(hooks) == 1
    assert events.relay_pending(hooks) == 1
    assert len(rows(hooks)) == 1 and outbox_rows(hooks) == 0
    drain(hooks)
    assert [r.event["comment_id"] for r in receiver.requests] == [cid]


def test_a_fan_out_that_fails_undoes_the_relays_delete(hooks, api, receiver):
    """The fan-out and the outbox delete commit together: when the fan-out fails, the
    event stays in the outbox, and the next relay offers it to webhooks."""
    endpoint = register(api, receiver)
    cid = submit_in_process(hooks, SLUG, f"{LINKS} number a")
    with session_scope(hooks.stores.moderation) as session:  # an endpoint row gone bad
        session.execute(
            sa.update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint["id"])
            .values(events=None)
        )
    assert pipeline.check_comment(hooks, cid) == "held"
    assert outbox_rows(hooks) == 1 and rows(hooks) == []
    with session_scope(hooks.stores.moderation) as session:
        session.execute(
            sa.update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint["id"])
            .values(events=["comment.held"])
        )
    assert events.relay_pending(hooks) == 1
    drain(hooks)
    assert [r.event["type"] for r in receiver.requests] == ["comment.held"]


@pytest.fixture
def trickler():
    """A receiver that answers 200 one byte every 0.2 s, forever: each read comes within
    the timeout, the whole answer never does."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                    if stop.is_set():
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    stop.set()
    thread.join(5)
    server.close()


def test_a_trickling_answer_is_cut_at_the_timeout(hooks, api, trickler):
    """The timeout bounds the whole exchange, not each read: a receiver sending its answer
    a byte at a time fails the attempt once the timeout (0.5 s here) is over."""
    response = api.post(
        "/api/v1/admin/webhooks", json={"url": trickler, "events": ["comment.held"]}
    )
    assert response.status_code == 201
    held_comment(hooks, 0)
    [row] = rows(hooks)
    started = time.monotonic()
    assert delivery.deliver(hooks, row.id, 0) == "retry"
    assert time.monotonic() - started < 2.0
    [row] = rows(hooks)
    assert row.status == "pending" and "0.5 s" in row.last_error and row.last_status_code is None
