"""Intake first: while the intake is saturated, the checks step back.

The design accepts fast and checks later, but on a machine the web processes share with
the workers, a burst is accepted and checked at once: the checks of a comment cost several
times its intake in CPU, so they took most of it (the whole stack accepted 5-14 % of a
bare Flask endpoint's rate with the worker running, against 35-45 % without it; issue 24).
Lowering the workers' CPU priority made it worse on SQLite: a worker that lost the CPU
while holding the store's one write lock held the intake writer up with it
(bench/README.md, "Whole stack"). So the workers step back of their own accord, between
checks, never inside a transaction:

- the intake writer marks the intake busy (a Redis key that expires within a fraction of a
  second) whenever its last :data:`BUSY_BATCHES` batches held :data:`BUSY_BATCH` or more
  comments each on average, which they do only when many requests keep queueing while it
  commits;
- while the mark is there, a worker process lets one check run at a time and, after it,
  rests ``PARLEY_CHECK_YIELD`` times as long as that check took (never more than
  :data:`MAX_REST` seconds), so it uses at most a fraction of a CPU;
- once the burst ends the mark expires, and every thread checks again: the backlog drains.

A check's wait for another service's answer (Akismet's, :func:`waiting`) is no work of
this machine's: the turn is given up meanwhile and the wait is not counted in the rest.
Counted, at Akismet's 150 ms every check held the turn for 150 ms and rested 450 ms more
for it, whatever its own work: with the mark held on for 10 s of 100 comments/s
(bench.pipeline, scratch), submit→published p50 was 10.4-12.8 s, against 7.2-8.2 s with
the wait left out (2026-12-07, in turns, a loaded machine).

Checks never stop altogether, however long a flood lasts; what waits meanwhile is held
in Redis and the store as always (acknowledged late, swept if lost).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

log = logging.getLogger(__name__)

BUSY_KEY = "parley:intake:busy"
# Many requests waiting for each commit mean the writer is the bottleneck: the intake is
# busy when its last BUSY_BATCHES batches held BUSY_BATCH or more comments each on average.
# At low load batches hold one or two comments, but a commit slowed by an fsync, the
# worker's own writes or another process on the CPU lets some gather at any rate. With 4
# per batch (one batch), the pipeline benchmark's 100 comments/s marked the intake busy
# often enough to hold the checks back (submit→published p50 3.5 s instead of 0.2 s). With
# one batch of 12 it still did on a loaded machine, where a stall of 120 ms is enough: in
# every run at load 5-9 (2026-12-07), p99 1.5-7.3 s; over three batches, no mark and p99
# 0.36-0.48 s in the same sitting. A stall shows as one large batch after small ones; a
# burst of 32 connections commits 14-17 a batch on average, unevenly (23, 5, 23, 5 … as
# the two api processes take turns), so it is the sum of a few that tells them apart.
BUSY_BATCH = 12
BUSY_BATCHES = 3
# The mark outlives the batch that set it by this long: several of the writer's cycles.
BUSY_MS = 250
# A check never rests longer than this, whatever it took.
MAX_REST = 1.0

T = TypeVar("T")


class Marker:
    """The writer's judgement of its own pressure, from the sizes of its last batches."""

    def __init__(self):
        self.recent: deque[int] = deque(maxlen=BUSY_BATCHES)
        self._lock = threading.Lock()  # an api process alone commits from its threads

    def mark(self, pipe, batch_size: int) -> None:
        """In the writer's hand-off pipeline (no extra round trip): mark the intake busy if
        this batch and those just before it say it is."""
        with self._lock:
            self.recent.append(batch_size)
            busy = sum(self.recent) >= BUSY_BATCH * BUSY_BATCHES
        if busy:
            pipe.set(BUSY_KEY, 1, px=BUSY_MS)


# The process's writer: one (a process of its own, or a thread), or an api process
# committing its own comments (shared.intake.client.Alone), whose batches it sees alike.
_marker = Marker()


def mark(pipe, batch_size: int) -> None:
    """:meth:`Marker.mark` for this process's writer."""
    _marker.mark(pipe, batch_size)


class _Turn:
    """A check's turn at a busy gate: the gate's lock, held by the check's thread, and the
    time it spent :func:`waiting` (given up, then taken back)."""

    def __init__(self, lock: threading.Lock, clock: Callable[[], float]):
        self.lock, self.clock, self.waited = lock, clock, 0.0


# The turn the current thread holds, if any (set only while a check runs at a busy gate).
_turn = threading.local()


@contextmanager
def waiting() -> Iterator[None]:
    """Around a check's wait for another service's answer (Akismet): if the check holds a
    busy gate's turn, it gives the turn up meanwhile (another check's own work may run)
    and the wait, with the time to take the turn back, is left out of its rest.
    Elsewhere, nothing."""
    turn = getattr(_turn, "current", None)
    if turn is None:
        yield
        return
    _turn.current = None  # a nested waiting() has no turn to give up
    started = turn.clock()
    turn.lock.release()
    try:
        yield
    finally:
        turn.lock.acquire()
        turn.waited += turn.clock() - started
        _turn.current = turn


class Gate:
    """One per worker process: runs checks freely while the intake is quiet; while it is
    busy, one at a time, each followed by a rest ``ratio`` times its own duration (its
    waits for another service's answer left out: :func:`waiting`)."""

    def __init__(self, redis, ratio: float, clock: Callable[[], float] = time.monotonic):
        self.redis, self.ratio, self.clock = redis, ratio, clock
        self._one = threading.Lock()

    def busy(self) -> bool:
        """Whether the intake says it is saturated; a Redis that cannot answer says no
        (the check's own calls will meet the outage and deal with it)."""
        try:
            return bool(self.redis.exists(BUSY_KEY))
        except Exception as exc:  # redis down: ConnectionError, TimeoutError, …
            log.debug("intake pressure unknown", extra={"error": str(exc)})
            return False

    def run(self, check: Callable[[], T]) -> T:
        if self.ratio <= 0 or not self.busy():
            return check()
        with self._one:
            # Asked again once its turn came: the threads that queued here during a burst
            # go back to running side by side as soon as it ends.
            if self.busy():
                return self._check_then_rest(check)
        return check()

    def _check_then_rest(self, check: Callable[[], T]) -> T:
        turn = _Turn(self._one, self.clock)
        _turn.current = turn
        started = self.clock()
        try:
            return check()
        finally:
            _turn.current = None
            rest = min(MAX_REST, (self.clock() - started - turn.waited) * self.ratio)
            if rest > 0:
                time.sleep(rest)
