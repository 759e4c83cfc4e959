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

from shared.articles import upsert_article
from shared.bootstrap import Container
from shared.config import load_settings
from shared.db import session_scope
from shared.intake.submit import RequestMeta, submit_comment
from shared.migrate import upgrade
from shared.models import Comment, CommentHistory, PublishedComment
from shared.moderation.maintenance import sweep
from shared.ops import collector, heartbeat
from tests.akismet_server import AkismetServer
from tests.support.procs import base_env, stack_values, start_redis, start_worker, wait_for
from tests.integration.test_metrics import queued_comment_ids

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
            data = {
                "author_name": f"Reader {i}",
                "author_email": f"r{i}@example.org",
                "content": text,
            }
            meta = RequestMeta(user_ip=f"198.51.100.{i % 250 + 1}", request_id=f"req-{i}")
            ids.append(submit_comment(container, SLUG, data, meta).id)
    except Exception as exc:  # reported by the test thread
        errors.append(exc)


def test_sigterm_mid_batch_loses_no_comment(tmp_path):
    db = f"sqlite:///{tmp_path}/p.db"
    upgrade(db, db)
    redis_proc, redis_url = start_redis(tmp_path)
    redis = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    akismet = AkismetServer(port=0).start()
    akismet.set(delay_ms=300)
    values = stack_values(db, redis_url, akismet.url, PARLEY_LEASE_SECONDS="5")
    env = base_env(**values)
    container = Container(load_settings(values))
    with session_scope(container.stores.articles) as session:
        upsert_article(
            session,
            SLUG,
            {"title": "Drill", "url": "https://news.example/drill", "comments_open": True},
        )

    procs = []
    try:
        first = start_worker(env, tmp_path, name="first")
        procs.append(first)
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

        second = start_worker(env, tmp_path, name="second")
        procs.append(second)
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
    finally:
        for proc in reversed(procs):
            proc.stop()
        akismet.stop()
        container.close()
        redis.close()
        redis_proc.stop()
