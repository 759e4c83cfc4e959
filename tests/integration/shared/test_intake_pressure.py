"""Intake first, with the real parts (shared.intake.pressure): comments submitted at once
through the real group-commit writer mark the intake busy in Redis, one at a time do not,
and a worker's gate on that Redis lets one check run at a time while the mark lasts, but
for their waits on Akismet."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from shared.intake.pressure import BUSY_BATCH, BUSY_BATCHES, BUSY_KEY, BUSY_MS, Gate
from shared.moderation import pipeline
from tests.support import factories
from tests.support.concurrency import most_at_once


def _submit_many(container, slug: str, count: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(
            pool.map(
                lambda n: factories.submit_in_process(
                    container,
                    slug,
                    f"Comment number {n} on the talks, at once.",
                    ip=f"198.51.100.{n}",
                ),
                range(count),
            )
        )


def test_one_comment_at_a_time_leaves_the_intake_quiet(container, article):
    for n in range(3):
        factories.submit_in_process(container, article, f"A calm comment, number {n}.")
        assert not container.redis.exists(BUSY_KEY)


def test_a_burst_marks_the_intake_busy_briefly(container, article, monkeypatch):
    seen_busy = []
    # Look at the key right after each hand-off: a burst of 64 threads queues requests
    # behind the writer's commits, so its last batches hold BUSY_BATCH or more on average.
    from shared.intake import pressure, submit

    monkeypatch.setattr(pressure, "_marker", pressure.Marker())  # no earlier test's batches
    real, sizes = submit.hand_off, []

    def watched(c, rows):
        real(c, rows)
        sizes.append(len(rows))
        if sum(sizes[-BUSY_BATCHES:]) >= BUSY_BATCH * BUSY_BATCHES:
            seen_busy.append(container.redis.pttl(BUSY_KEY))

    monkeypatch.setattr(submit, "hand_off", watched)
    ids = _submit_many(container, article, 64)
    assert len(set(ids)) == 64
    if not seen_busy:
        # The writer kept up with every request on its own: nothing to mark, and nothing was.
        assert not container.redis.exists(BUSY_KEY)
        return
    assert all(0 < ttl <= BUSY_MS for ttl in seen_busy), seen_busy
    time.sleep(BUSY_MS / 1000 + 0.1)
    assert not container.redis.exists(BUSY_KEY)


def test_the_gate_follows_the_mark_in_redis(container):
    gate = Gate(container.redis, ratio=0.01)
    container.redis.set(BUSY_KEY, 1, px=5000)
    assert most_at_once(gate.run, threads=6) == 1
    container.redis.delete(BUSY_KEY)
    assert most_at_once(gate.run, threads=6) > 1


def test_checks_at_a_busy_gate_wait_for_akismet_side_by_side(akismet_container, monkeypatch):
    """The check gives up its turn while Akismet answers: at a busy gate the checks' own
    work runs one at a time, but their waits for Akismet's answers overlap."""
    container = akismet_container
    factories.open_article(container.stores, "talks", "Talks", "https://news.example/talks")
    texts = (
        "The delegation met at the palace on Monday.",
        "A ceasefire would let the families go home.",
        "Cautious optimism about the next round, then.",
        "The prisoner swap happens in stages, it seems.",
    )
    ids = [
        factories.submit_in_process(
            container, "talks", text, name=f"Reader {n}", ip=f"198.51.100.{n + 10}"
        )
        for n, text in enumerate(texts)
    ]
    checker, lock, asking, most = container.spam_checker, threading.Lock(), [0], [0]
    real_check = checker.check

    def slow_check(payload):
        with lock:
            asking[0] += 1
            most[0] = max(most[0], asking[0])
        time.sleep(0.5)  # Akismet taking its time (long beside the checks' own work)
        with lock:
            asking[0] -= 1
        return real_check(payload)

    monkeypatch.setattr(checker, "check", slow_check)
    gate = Gate(container.redis, ratio=0.01)
    container.redis.set(BUSY_KEY, 1, px=10_000)
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(
            pool.map(lambda cid: gate.run(lambda: pipeline.check_comment(container, cid)), ids)
        )
    container.redis.delete(BUSY_KEY)
    assert statuses == ["published"] * 4
    assert most[0] > 1
