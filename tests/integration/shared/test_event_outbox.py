"""Events through a Redis outage (docs/contract.md §6, issue 22 item 16): every status
change records its event with the change, and the relay sends it once Redis answers, in
order per comment, with the ``event_id`` it was recorded with.

Redis is really unreachable here: the containers that make the changes point at a port
that nothing listens on, while the stores are the test's real SQLite or PostgreSQL.
"""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from shared import events
from shared.models.moderation_store import EventOutbox
from shared.moderation import actions, pipeline
from shared.ops.collector import render_metrics
from tests.support.factories import LINKS, open_article, status_of, submit_in_process

SLUG = "istanbul-talks"
MODERATOR = "mod@news.example"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def parley(make_container):
    """The stack with Redis answering."""
    container = make_container()
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    return container


@pytest.fixture
def cut_off(make_container, parley):
    """The same stores, with Redis unreachable."""
    return make_container(redis_url=f"redis://127.0.0.1:{closed_port()}/6")


def outbox(container) -> list[tuple[str, str, str]]:
    """The pending events (event_id, type, comment_id), in id order."""
    with container.stores.moderation_read() as session:
        return [
            tuple(row)
            for row in session.execute(
                sa.select(EventOutbox.event_id, EventOutbox.type, EventOutbox.comment_id).order_by(
                    EventOutbox.id
                )
            )
        ]


def stream(redis_client) -> list[dict]:
    return [fields for _, fields in redis_client.xrange(events.STREAM)]


def of(entries, comment_id: str) -> list[str]:
    return [e["type"] for e in entries if e["comment_id"] == comment_id]


def pending_gauge(container) -> float:
    body, _ = render_metrics(container)
    [line] = [x for x in body.decode().splitlines() if x.startswith("parley_events_pending ")]
    return float(line.split()[1])


def held(container, n: int) -> str:
    """A comment the check held (two links), decided with Redis answering."""
    cid = submit_in_process(container, SLUG, f"{LINKS} number {'abcdefgh'[n]}")
    assert pipeline.check_comment(container, cid) == "held"
    return cid


@pytest.mark.parametrize("backend", ["sqlite", "sqlite-split", "postgres", "postgres-split"])
def test_changes_commit_while_redis_is_down_and_every_event_is_relayed_after(
    backend, parley, cut_off, redis_client
):
    clean = [submit_in_process(parley, SLUG, f"A calm comment, number {w}.") for w in "ab"]
    first, second = held(parley, 0), held(parley, 1)
    assert outbox(parley) == []  # relayed at once while Redis answered
    before = stream(redis_client)

    # Redis is gone: a worker's decisions and moderators' actions still commit.
    assert pipeline.check_comments(cut_off, clean) == ["published", "published"]
    actions.moderate(cut_off, first, "approve", MODERATOR)
    actions.moderate(cut_off, first, "spam", MODERATOR, "a second look")
    actions.moderate(cut_off, second, "reject", MODERATOR)
    assert [status_of(parley, c) for c in (*clean, first, second)] == [
        "published",
        "published",
        "spam",
        "rejected",
    ]
    assert stream(redis_client) == before  # nothing reached Redis
    recorded = outbox(parley)
    pairs = [(type_, cid) for _, type_, cid in recorded]
    # One batch decides both clean comments in one transaction: the order between two
    # comments of a batch is not promised (PostgreSQL returns the claim's rows in any
    # order), the order of each comment's own events is.
    assert sorted(pairs[:2]) == sorted([("comment.published", c) for c in clean])
    assert pairs[2:] == [
        ("comment.published", first),
        ("comment.unpublished", first),
        ("comment.spam", first),
        ("comment.rejected", second),
    ]
    assert len({event_id for event_id, _, _ in recorded}) == 6
    assert pending_gauge(cut_off) == 6  # the database answers the scrape

    # The periodic relay cannot send anything while Redis is down; nothing is lost.
    assert events.relay_pending(cut_off) == 0
    assert outbox(parley) == recorded

    # Redis answers again: the relay sends every one, once, as recorded.
    assert events.relay_pending(parley) == 6
    after = stream(redis_client)[len(before) :]
    assert [(e["event_id"], e["type"], e["comment_id"]) for e in after] == recorded
    assert all(e["article"] == SLUG and e["at"].endswith("Z") for e in after)
    assert outbox(parley) == []
    assert pending_gauge(parley) == 0
    everything = stream(redis_client)
    assert of(everything, first) == [
        "comment.received",
        "comment.held",
        "comment.published",
        "comment.unpublished",
        "comment.spam",
    ]
    assert of(everything, clean[0]) == ["comment.received", "comment.published"]
    assert events.relay_pending(parley) == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgres-split"])
def test_a_new_event_never_overtakes_an_older_one_still_pending(
    backend, parley, cut_off, redis_client
):
    cid, other = held(parley, 0), held(parley, 1)
    actions.moderate(cut_off, cid, "approve", MODERATOR)  # published: pending
    actions.moderate(cut_off, other, "reject", MODERATOR)  # another comment's: pending
    [(published_id, _, _)] = [row for row in outbox(parley) if row[2] == cid]

    # Redis is back; the next change of the comment relays its older event first.
    actions.moderate(parley, cid, "spam", MODERATOR)
    entries = stream(redis_client)
    assert of(entries, cid) == [
        "comment.received",
        "comment.held",
        "comment.published",
        "comment.unpublished",
        "comment.spam",
    ]
    assert [e["event_id"] for e in entries if e["type"] == "comment.published"] == [published_id]
    # The other comment's event is left to the periodic relay.
    assert [row[1:] for row in outbox(parley)] == [("comment.rejected", other)]
    assert events.relay_pending(parley) == 1
    assert of(stream(redis_client), other)[-1] == "comment.rejected"


def _fail_deletes(container) -> None:
    """A relay that dies between XADD and DELETE, played by the database: a trigger makes
    every delete from the outbox fail."""
    engine = container.stores.moderation_engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION outbox_crash() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'relay crashed'; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER outbox_crash BEFORE DELETE ON event_outbox "
                "FOR EACH ROW EXECUTE FUNCTION outbox_crash()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER outbox_crash BEFORE DELETE ON event_outbox "
                "BEGIN SELECT RAISE(ABORT, 'relay crashed'); END"
            )


def _allow_deletes(container) -> None:
    engine = container.stores.moderation_engine
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER IF EXISTS outbox_crash"
            + (" ON event_outbox" if engine.dialect.name == "postgresql" else "")
        )
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS outbox_crash()")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_relay_that_dies_after_sending_sends_again_with_the_same_event_ids(
    backend, parley, cut_off, redis_client
):
    cid, other = held(parley, 0), held(parley, 1)
    actions.moderate(cut_off, cid, "approve", MODERATOR)
    actions.moderate(cut_off, cid, "reject", MODERATOR)
    before = len(stream(redis_client))
    _fail_deletes(parley)
    try:
        # Both relays reach Redis, then die before deleting what they sent.
        assert events.relay_pending(parley) == 0
        actions.moderate(parley, other, "spam", MODERATOR)  # the fast path dies likewise
        recorded = outbox(parley)
        assert len(recorded) == 4
        assert pending_gauge(parley) == 4
    finally:
        _allow_deletes(parley)
    assert events.relay_pending(parley) == 4
    assert outbox(parley) == []
    sent = stream(redis_client)[before:]
    # At least once: every recorded event is in the stream, repeats carry its one id.
    by_id: dict[str, list[dict]] = {}
    for entry in sent:
        by_id.setdefault(entry["event_id"], []).append(entry)
    assert set(by_id) == {event_id for event_id, _, _ in recorded}
    for event_id, copies in by_id.items():
        assert len({tuple(sorted(c.items())) for c in copies}) == 1, event_id
    assert sorted(len(copies) for copies in by_id.values()) == [2, 2, 2, 2]
    # In order per comment, counting each event at its first appearance.
    first_seen = list(dict.fromkeys(e["event_id"] for e in sent))
    types = {e["event_id"]: (e["type"], e["comment_id"]) for e in sent}
    assert [types[i][0] for i in first_seen if types[i][1] == cid] == [
        "comment.published",
        "comment.unpublished",
        "comment.rejected",
    ]
    assert status_of(parley, cid) == "rejected" and status_of(parley, other) == "spam"
