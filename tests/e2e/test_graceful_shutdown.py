"""SIGTERM to a busy worker loses no accepted comment.

A real Celery worker (thread pool) checks 200 comments against the Akismet-compatible
server answering in 300 ms. Mid-batch it gets SIGTERM, as docker or honcho would send:
its warm shutdown must finish the checks in flight (none is left ``checking``) and leave
the rest queued. A second worker and the sweeper then bring every comment to a final
state, each decided once and each published comment in the article store once.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time

import pytest
import redis as redis_lib
from sqlalchemy import func, select

from shared.models import Comment, CommentHistory, PublishedComment
from shared.moderation.maintenance import sweep
from shared.ops import collector, heartbeat
from tests.support.factories import open_article, submit_in_process
from tests.support.metrics import queued_comment_ids
from tests.support.procs import base_env, stack_values, wait_for
from tests.support.stack import Running
from tests.support.stores import sqlite_store

pytestmark = pytest.mark.e2e

N = 200
FINAL = ("published", "held", "spam", "discarded")
SLUG = "shutdown-drill"
_SUBJECTS = (
    "exchange",
    "ceasefire",
    "delegation",
    "border",
    "palace",
    "mediator",
    "treaty",
    "summit",
    "prisoners",
    "families",
    "negotiators",
    "observers",
    "guarantees",
    "corridor",
    "timeline",
)
_VIEWS = (
    "looks promising",
    "needs patience",
    "deserves scrutiny",
    "surprised me",
    "was overdue",
    "feels fragile",
    "sets a precedent",
    "could unravel",
    "earned praise",
    "raises questions",
    "moved quickly",
    "stalled again",
    "matters most",
    "went unnoticed",
    "needs funding",
)


def remarks():
    """200 texts that differ in words, not digits (digits are folded by the duplicate rule)."""
    for subject, view in itertools.islice(itertools.product(_SUBJECTS, _VIEWS), N):
        yield f"In my view the {subject} {view}, judging by what the reporters saw."


def submit_all(container, ids: list, errors: list) -> None:
    try:
        for i, text in enumerate(remarks()):
            cid = submit_in_process(
                container,
                SLUG,
                text,
                name=f"Reader {i}",
                email=f"r{i}@example.org",
                ip=f"198.51.100.{i % 250 + 1}",
                user_agent=None,
                referrer=None,
                request_id=f"req-{i}",
            )
            ids.append(cid)
    except Exception as exc:  # reported by the test thread
        errors.append(exc)


def test_sigterm_mid_batch_loses_no_comment(tmp_path):
    with Running(tmp_path) as run:
        db = sqlite_store(tmp_path, "p")
        redis_url = run.redis()
        redis = run.enter_context(redis_lib.Redis.from_url(redis_url, decode_responses=True))
        akismet = run.akismet()
        akismet.set(delay_ms=300)
        values = stack_values(db, redis_url, akismet.url, PARLEY_LEASE_SECONDS="5")
        env = base_env(**values)
        container = run.container(values)
        open_article(container.stores, SLUG, "Drill", "https://news.example/drill")

        first = run.worker(env, name="first")
        wait_for(
            lambda: any(w["alive"] for w in heartbeat.workers(redis)),
            30,
            "the first worker's heartbeat",
        )

        # Submitting goes on while the worker is stopped: intake never needs a worker.
        ids, errors = [], []
        submitter = threading.Thread(target=submit_all, args=(container, ids, errors))
        submitter.start()
        wait_for(
            lambda: sum(collector.comment_counts(container).get(s, 0) for s in FINAL) >= 30,
            30,
            "30 decisions",
        )
        first.popen.send_signal(signal.SIGTERM)  # to the worker itself, as docker stop does
        assert first.popen.wait(30) == 0, first.log()[-3000:]
        submitter.join(60)
        assert not errors and len(set(ids)) == N, errors[:1]
        left = collector.comment_counts(container)
        assert left.get("checking", 0) == 0, (
            f"in-flight checks abandoned: {left}\n{first.log()[-3000:]}"
        )
        assert sum(left.get(s, 0) for s in FINAL) < N, f"the batch finished before SIGTERM: {left}"
        # Every comment not yet decided still has its message queued (prefetched ones returned).
        with container.stores.moderation_read() as session:
            waiting = set(session.scalars(select(Comment.id).where(Comment.status == "received")))
        assert waiting <= set(queued_comment_ids(redis.lrange("checks", 0, -1)))
        assert "Warm shutdown" in first.log()

        second = run.worker(env, name="second")
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            now = collector.comment_counts(container)
            if sum(now.get(s, 0) for s in FINAL) == N:
                break
            sweep(container)  # what beat does every PARLEY_SWEEP_SECONDS
            time.sleep(1)
        final = collector.comment_counts(container)
        assert sum(final.get(s, 0) for s in FINAL) == N, (
            f"not all decided: {final}\n{second.log()[-3000:]}"
        )

        with container.stores.moderation_read() as session:
            published = set(
                session.scalars(select(Comment.id).where(Comment.status == "published"))
            )
            decisions = dict(
                session.execute(
                    select(CommentHistory.comment_id, func.count())
                    .where(CommentHistory.action == "check")
                    .group_by(CommentHistory.comment_id)
                ).all()
            )
        with container.stores.articles_read() as session:
            public = list(session.scalars(select(PublishedComment.id)))
        assert published, "nothing was published"
        assert sorted(public) == sorted(published)  # each published comment once, nothing else
        assert set(decisions) == set(ids) and set(decisions.values()) == {1}  # each decided once
