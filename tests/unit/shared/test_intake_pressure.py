"""Intake first (shared.intake.pressure): the writer's mark and the workers' gate, with a
Redis stand-in (unit tests do no I/O; tests/integration/shared/test_intake_pressure.py
runs the real writer and Redis)."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.intake import pressure
from shared.intake.pressure import BUSY_BATCH, BUSY_KEY, MAX_REST, Gate
from tests.support.concurrency import most_at_once


class Pipe:
    def __init__(self):
        self.calls = []

    def set(self, key, value, px=None):
        self.calls.append((key, value, px))


class FakeRedis:
    def __init__(self, busy=False, fail=False):
        self.is_busy, self.fail, self.asked = busy, fail, 0

    def exists(self, key):
        self.asked += 1
        assert key == BUSY_KEY
        if self.fail:
            raise ConnectionError("redis is down")
        return 1 if self.is_busy else 0


def _marks(sizes: list[int]) -> list[bool]:
    """For each batch of ``sizes`` committed in turn by one writer, whether it set the mark."""
    marker, marked = pressure.Marker(), []
    for size in sizes:
        pipe = Pipe()
        marker.mark(pipe, size)
        assert pipe.calls in ([], [(BUSY_KEY, 1, pressure.BUSY_MS)])
        marked.append(bool(pipe.calls))
    return marked


def test_small_batches_leave_no_mark():
    assert not any(_marks([0, 1, 2, BUSY_BATCH - 1] * 5))


def test_one_large_batch_after_small_ones_leaves_no_mark():
    # A stall of the writer at a steady rate: one batch gathers what arrived meanwhile.
    assert _marks([1, 1, BUSY_BATCH, 1, 1, 2 * BUSY_BATCH, 1, 1]) == [False] * 8


@pytest.mark.parametrize(
    "sizes",
    [
        [BUSY_BATCH] * 3,
        [23, 5, 23, 5, 23],  # two api processes taking turns in a burst
        [BUSY_BATCH * pressure.BUSY_BATCHES],  # the first batch of a flood
    ],
)
def test_batches_large_on_average_mark_the_intake_busy_for_a_moment(sizes):
    assert _marks(sizes)[-1]


def test_the_mark_follows_the_last_batches_only():
    # three batches of 14 (42 >= 36) mark; then calm batches of 1 take it away
    assert pressure.BUSY_BATCHES == 3 and BUSY_BATCH == 12
    assert _marks([14] * 5 + [1] * 3) == [False, False, True, True, True, False, False, False]


def test_zero_ratio_never_asks_and_never_waits(monkeypatch):
    redis = FakeRedis(busy=True)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("slept"))
    assert Gate(redis, 0).run(lambda: "done") == "done"
    assert redis.asked == 0


def _inside_at_once(gate: Gate, threads: int = 8) -> int:
    """The most checks inside ``gate`` at once when ``threads`` arrive together."""
    return most_at_once(gate.run, threads)


def test_a_quiet_intake_lets_every_check_run_at_once():
    assert _inside_at_once(Gate(FakeRedis(busy=False), 3.0)) > 1


def test_a_busy_intake_lets_one_check_run_at_a_time():
    # ratio tiny so the rests do not slow the test; the exclusion is what is checked
    assert _inside_at_once(Gate(FakeRedis(busy=True), 0.001)) == 1


def _run_recording_rests(gate: Gate, check, fails: bool, rests: list) -> None:
    """Run ``check`` through ``gate``, the rests it takes appended to ``rests`` instead of
    slept; it raises RuntimeError if ``fails``, else answers "ok"."""
    real_sleep = time.sleep
    time.sleep = rests.append
    try:
        if fails:
            with pytest.raises(RuntimeError):
                gate.run(check)
        else:
            assert gate.run(check) == "ok"
    finally:
        time.sleep = real_sleep


def test_a_redis_that_cannot_answer_means_quiet():
    assert _inside_at_once(Gate(FakeRedis(fail=True), 3.0)) > 1


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@given(
    took=st.floats(min_value=0, max_value=60, allow_nan=False),
    ratio=st.floats(min_value=0.001, max_value=100, allow_nan=False),
    fails=st.booleans(),
)
def test_the_rest_is_ratio_times_the_check_and_bounded(took, ratio, fails):
    clock, rests = Clock(), []
    gate = Gate(FakeRedis(busy=True), ratio, clock=clock)

    def check():
        clock.now += took
        if fails:
            raise RuntimeError("the check failed")
        return "ok"

    _run_recording_rests(gate, check, fails, rests)
    expected = min(MAX_REST, took * ratio)
    if expected > 0:
        assert rests == [pytest.approx(expected)]
    else:
        assert rests == []
    assert 0 <= sum(rests) <= MAX_REST


def test_checks_queued_during_a_burst_run_side_by_side_once_it_ends():
    redis = FakeRedis(busy=True)
    gate = Gate(redis, 0.001)
    lock, inside, most = threading.Lock(), [0], [0]
    first_in = threading.Event()

    def check():
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        first_in.set()
        time.sleep(0.05)
        with lock:
            inside[0] -= 1

    def first():
        gate.run(check)

    head = threading.Thread(target=first)
    head.start()
    first_in.wait(5)
    # The others arrive while the burst lasts: they queue behind the first check.
    rest = [threading.Thread(target=gate.run, args=(check,)) for _ in range(5)]
    for t in rest:
        t.start()
    time.sleep(0.01)
    redis.is_busy = False  # the burst ends while they wait
    for t in [head, *rest]:
        t.join(10)
    assert most[0] > 1


def test_a_check_gives_up_its_turn_while_it_waits_for_another_service():
    # Each check: its own work, then a wait for an answer (Akismet's), then its own work.
    # At a busy gate the own work stays one at a time; the waits overlap.
    gate = Gate(FakeRedis(busy=True), 0.001)
    lock, counts = threading.Lock(), {"own": [0, 0], "wait": [0, 0]}

    def part(kind: str, seconds: float) -> None:
        with lock:
            counts[kind][0] += 1
            counts[kind][1] = max(counts[kind][1], counts[kind][0])
        time.sleep(seconds)
        with lock:
            counts[kind][0] -= 1

    def check() -> None:
        part("own", 0.01)
        with pressure.waiting():
            part("wait", 0.2)  # long beside the own work: the others' own work fits in it
        part("own", 0.01)

    threads = [threading.Thread(target=gate.run, args=(check,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert counts["own"][1] == 1
    assert counts["wait"][1] > 1


def test_waiting_outside_a_busy_gate_does_nothing():
    with pressure.waiting():
        pass
    gate = Gate(FakeRedis(busy=False), 3.0)
    assert gate.run(lambda: _waited(lambda: "done")) == "done"


def _waited(answer):
    with pressure.waiting():
        return answer()


@given(
    own=st.floats(min_value=0, max_value=10, allow_nan=False),
    waited=st.floats(min_value=0, max_value=10, allow_nan=False),
    ratio=st.floats(min_value=0.001, max_value=100, allow_nan=False),
    fails=st.booleans(),
)
def test_the_rest_leaves_out_the_wait_for_another_service(own, waited, ratio, fails):
    clock, rests = Clock(), []
    gate = Gate(FakeRedis(busy=True), ratio, clock=clock)

    def check():
        clock.now += own / 2
        with pressure.waiting():
            clock.now += waited
            if fails:
                raise RuntimeError("Akismet failed")
        clock.now += own / 2
        return "ok"

    _run_recording_rests(gate, check, fails, rests)
    took = own / 2 if fails else own
    # (the clock's sums round: a rest of 1e-16 s for none is as good as none)
    assert len(rests) <= 1
    assert sum(rests) == pytest.approx(min(MAX_REST, took * ratio), abs=1e-9)
    # the turn is given back whatever happened: the next check takes it at once
    assert not gate._one.locked()
