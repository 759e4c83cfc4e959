"""The worker lives through Redis restarts and goes on checking comments.

A real worker, configured as the Procfile runs it (thread pool, 32 threads), checks a
stream of comments against the Akismet-compatible server (100 ms a call). Its Redis, a
private redis-server without persistence, is killed with SIGKILL while checks are in
flight and started again on the same port, eight times. kombu 5.7 took the worker down
on about one restart in five (``AttributeError: 'NoneType' object has no attribute
'hostname'``; the cause is in shared/broker.py). The worker must survive every restart,
check comments submitted after the last one without help, and, with the sweeper doing
what beat does, bring every comment to a final state, each decided once.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.articles import upsert_article
from shared.bootstrap import Container
from shared.config import load_settings
from shared.db import session_scope
from shared.intake.submit import RequestMeta, submit_comment
from shared.migrate import upgrade
from shared.models import Comment, CommentHistory
from shared.moderation.maintenance import sweep
from shared.ops import collector
from tests.akismet_server import AkismetServer
from tests.support.procs import Proc, base_env, free_port, stack_values, start_worker, wait_for

pytestmark = pytest.mark.e2e

FINAL = ("published", "held", "spam", "discarded")
SLUG = "restart-drill"
RESTARTS = 8
_WORDS = (
    "treaty summit border palace corridor mediator observers guarantees timeline families "
    "delegation ceasefire exchange prisoners negotiators envoy ministry harbour railway "
    "election budget tariff pipeline reservoir orchard vineyard glacier"
).split()


class RestartableRedis:
    """redis-server on one fixed port, without persistence, that can be killed and
    started again: what a crashed and restarted Redis looks like to its clients."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Proc | None = None

    def start(self) -> None:
        self.proc = Proc(
            f"redis-{self.port}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.log_dir),
            ],
            base_env(),
            self.log_dir,
        )
        wait_for(self._pong, 10, "the private Redis")

    def _pong(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def kill9(self) -> None:
        self.proc.kill9()
        self.proc.stop()

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


def remark(rng: random.Random) -> str:
    """A text the duplicate rule does not fold into another (it folds digits, not words)."""
    return "Readers ask about the " + " ".join(rng.sample(_WORDS, 6)) + "."


def submit(container, rng: random.Random, n: int) -> str:
    data = {"author_name": f"Reader {n}", "author_email": f"r{n}@example.org"}
    meta = RequestMeta(user_ip=f"198.51.100.{n % 250 + 1}", request_id=f"req-{n}")
    return submit_comment(container, SLUG, {**data, "content": remark(rng)}, meta).id


def statuses(container, ids) -> dict[str, str]:
    with container.stores.moderation_read() as session:
        rows = session.execute(select(Comment.id, Comment.status).where(Comment.id.in_(ids)))
        return dict(rows.all())


@pytest.mark.timeout(180)  # eight restarts and the sweeps after them: 35-40 s, more when busy
def test_worker_survives_redis_restarts(tmp_path):
    db = f"sqlite:///{tmp_path}/p.db"
    upgrade(db, db)
    redis = RestartableRedis(tmp_path)
    redis.start()
    akismet = AkismetServer(port=0).start()
    akismet.set(delay_ms=100)
    values = stack_values(db, redis.url, akismet.url, PARLEY_LEASE_SECONDS="5")
    container = Container(load_settings(values))
    with session_scope(container.stores.articles) as session:
        upsert_article(
            session,
            SLUG,
            {"title": "Drill", "url": "https://news.example/drill", "comments_open": True},
        )
    rng = random.Random(15)
    ids: list[str] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def feed() -> None:
        # Intake goes on while Redis is down: the row is stored, the hand-off is retried
        # by the sweeper.
        try:
            while not stop.is_set():
                ids.append(submit(container, rng, len(ids)))
                time.sleep(0.01)
        except Exception as exc:  # reported by the test thread
            errors.append(exc)

    worker = start_worker(base_env(**values), tmp_path, concurrency=32)
    feeder = threading.Thread(target=feed)
    try:
        feeder.start()
        wait_for(lambda: collector.comment_counts(container)["checking"], 30, "a first check")
        for restart in range(RESTARTS):
            wait_for(
                lambda: collector.comment_counts(container)["checking"],
                30,
                f"checks in flight before restart {restart}",
                interval=0.02,
            )
            redis.kill9()
            time.sleep(rng.uniform(0.2, 1.5))
            redis.start()
            time.sleep(rng.uniform(1.0, 2.5))
            assert worker.alive(), f"restart {restart} stopped the worker:\n{worker.log()[-4000:]}"
        stop.set()
        feeder.join(10)
        assert not errors, errors[:1]

        # Submitted after the last restart: the worker checks them with no sweeper's help.
        fresh = [submit(container, rng, len(ids) + i) for i in range(20)]
        wait_for(
            lambda: set(statuses(container, fresh).values()) <= set(FINAL),
            45,
            "the worker to check comments submitted after the restarts",
        )

        everything = ids + fresh
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if set(statuses(container, everything).values()) <= set(FINAL):
                break
            sweep(container)  # what beat does every PARLEY_SWEEP_SECONDS
            time.sleep(1)
        left = collector.comment_counts(container)
        assert set(statuses(container, everything).values()) <= set(FINAL), left
        with container.stores.moderation_read() as session:
            decisions = dict(
                session.execute(
                    select(CommentHistory.comment_id, func.count())
                    .where(CommentHistory.action == "check")
                    .group_by(CommentHistory.comment_id)
                ).all()
            )
        assert set(decisions) == set(everything) and set(decisions.values()) == {1}
        assert worker.alive() and "Unrecoverable error" not in worker.log()
    finally:
        stop.set()
        feeder.join(10)
        worker.stop()
        akismet.stop()
        container.close()
        redis.stop()
