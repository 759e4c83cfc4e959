"""Intake first, with the real parts (shared.intake.pressure): comments submitted at once
through the real group-commit writer mark the intake busy in Redis, one at a time do not,
and a worker's gate on that Redis lets one check run at a time while the mark lasts."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from shared.intake.pressure import BUSY_BATCH, BUSY_BATCHES, BUSY_KEY, BUSY_MS, Gate
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
