"""Webhooks through the real `deliver` process (Procfile; docs/contract.md §4), with beat's
tick, a private Redis and a real HTTP receiver (tests/support/receiver.py), on SQLite and
PostgreSQL: a worker killed with kill -9 mid-delivery loses nothing; failures and a
timeout are retried, every request signed, each comment's events in order; checks go on
while every delivery thread hangs on a receiver."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
import redis as redis_lib
import sqlalchemy as sa

from shared.db import session_scope
from shared.migrate import upgrade
from shared.models import Comment, WebhookDelivery
from shared.moderation import actions, pipeline
from shared.webhooks import endpoints
from tests.support.factories import LINKS, letters, open_article, submit_in_process
from tests.support.procs import base_env, stack_values, wait_for
from tests.support.receiver import Receiver
from tests.support.stack import Running
from tests.support.stores import (
    PG_ADMIN,
    create_database,
    drop_database,
    postgres_available,
    sqlite_store,
)

pytestmark = pytest.mark.e2e

SLUG = "webhook-drill"
FINAL = ("published", "held", "spam", "discarded")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield sqlite_store(tmp_path, "p")
        return
    if not postgres_available():
        pytest.skip("PostgreSQL not available")
    name = f"parley_hooks_{uuid.uuid4().hex[:8]}"
    url = create_database(PG_ADMIN, name)
    upgrade(url, url)
    yield url
    drop_database(PG_ADMIN, name)


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def setup(run: Running, database: str, **extra):
    redis_url = run.redis()
    hooks = dict(
        PARLEY_WEBHOOK_ALLOW_PRIVATE="1",
        PARLEY_WEBHOOK_TIMEOUT="2",
        PARLEY_WEBHOOK_RETRY_SECONDS="0.2",
        PARLEY_WEBHOOK_TICK_SECONDS="0.5",
    )
    values = stack_values(database, redis_url, **{**hooks, **extra})
    container = run.container(values)
    open_article(container.stores, SLUG, "Drill", "https://news.example/drill")
    return base_env(**values), container, redis_url


def register(container, receiver, events_) -> None:
    with session_scope(container.stores.moderation) as session:
        body = endpoints.create(
            session, {"url": receiver.url, "events": list(events_)}, "test", allow_private=True
        )
    receiver.secret = body["secret"]


def held(container, n: int) -> str:
    cid = submit_in_process(
        container, SLUG, f"{LINKS} (drill {letters(n)})", email=f"r{n}@example.org"
    )
    assert pipeline.check_comment(container, cid) == "held"
    return cid


def statuses(container) -> Counter:
    with container.stores.moderation_read() as session:
        return Counter(session.scalars(sa.select(WebhookDelivery.status)))


def expected_events(container) -> dict[str, str]:
    with container.stores.moderation_read() as session:
        return dict(
            session.execute(sa.select(WebhookDelivery.event_id, WebhookDelivery.type)).all()
        )


@pytest.mark.timeout(150)
def test_kill_9_mid_delivery_loses_nothing(tmp_path, database, receiver):
    with Running(tmp_path) as run:
        env, container, _ = setup(run, database)
        receiver.hang_always = 1.0  # slow, within the 2 s timeout: attempts in flight
        register(container, receiver, ["comment.held"])
        run.beat(env)
        first = run.deliver(env, name="first", concurrency=4)
        ids = [held(container, n) for n in range(24)]
        wait_for(lambda: len(receiver.requests) >= 4, 60, "deliveries in flight")
        first.kill9()
        receiver.hang_always = 0
        second = run.deliver(env, name="second", concurrency=4)
        wait_for(
            lambda: statuses(container) == Counter(delivered=24),
            90,
            f"every delivery delivered:\n{second.log()[-2000:]}",
        )
        expected = expected_events(container)
        got = receiver.events()
        assert {e["event_id"] for e in got} == set(expected)  # every event, at least once
        assert {e["comment_id"] for e in got} == set(ids)
        by_id: dict[str, dict] = {}
        for event in got:  # a repeat is the same event: same id, same fields
            assert by_id.setdefault(event["event_id"], event) == event
        assert len(got) > len(expected), "nothing was in flight when the worker was killed"
        assert all(r.signed for r in receiver.requests)


@pytest.mark.timeout(150)
def test_failures_and_a_timeout_retried_in_order_through_the_worker(tmp_path, database, receiver):
    with Running(tmp_path) as run:
        env, container, _ = setup(run, database)
        receiver.fail_first, receiver.hang_once = 3, 3.0
        register(container, receiver, ["comment.held", "comment.published"])
        run.beat(env)
        run.deliver(env, concurrency=4)
        ids = [held(container, n) for n in range(5)]
        for cid in ids:
            actions.moderate(container, cid, "approve", "mod@news.example")
        wait_for(lambda: statuses(container) == Counter(delivered=10), 90, "10 delivered")
        assert [r.answered for r in receiver.requests[:3]] == [500, 500, 500]
        assert all(r.signed for r in receiver.requests)
        accepted = receiver.accepted()
        for cid in ids:
            mine = [r.event["type"] for r in accepted if r.event["comment_id"] == cid]
            assert mine == ["comment.held", "comment.published"], (cid, mine)
        published = [r.event for r in accepted if r.event["type"] == "comment.published"]
        assert all(e["comment"]["id"] == e["comment_id"] for e in published)


@pytest.mark.timeout(150)
def test_checks_go_on_while_every_delivery_hangs(tmp_path, receiver):
    database = sqlite_store(tmp_path, "p")
    with Running(tmp_path) as run:
        env, container, redis_url = setup(run, database, PARLEY_WEBHOOK_TIMEOUT="30")
        redis = run.enter_context(redis_lib.Redis.from_url(redis_url, decode_responses=True))
        receiver.hang_always = 60  # never answers in time
        register(container, receiver, ["comment.received", "comment.held", "comment.published"])
        run.deliver(env, concurrency=2)
        run.worker(env)
        # Two first comments fill the deliver process's two threads with hanging requests
        # (one at a time per comment: their receipts).
        for text in ("A first, calm remark about the talks.", "A second, calm remark."):
            submit_in_process(container, SLUG, text, email=f"{len(text)}@e.org")
        wait_for(lambda: len(receiver.requests) >= 2, 60, "both delivery threads hanging")
        started = time.monotonic()
        ids = [
            submit_in_process(
                container,
                SLUG,
                f"Remark {letters(n)} on the talks, calmly put.",
                email=f"c{n}@e.org",
            )
            for n in range(30)
        ]

        def decided() -> bool:
            with container.stores.moderation_read() as session:
                rows = session.scalars(sa.select(Comment.status).where(Comment.id.in_(ids))).all()
            return len(rows) == 30 and all(s in FINAL for s in rows)

        wait_for(decided, 30, "30 checks while deliveries hang")
        elapsed = time.monotonic() - started
        assert len(receiver.requests) == 2, "the hanging receiver got more than the threads"
        assert redis.llen("webhooks") > 0  # deliveries wait for the deliver process
        print(f"30 checks decided in {elapsed:.2f} s while every delivery thread hung")
