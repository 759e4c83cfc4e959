"""Which CPU each gunicorn worker keeps to (services/affinity.py)."""

from __future__ import annotations

import pytest

from services.affinity import mode, pick_cpu


def spawn(cpus, workers):
    """The CPUs of ``workers`` new workers started one after another, as the master does."""
    taken = []
    for _ in range(workers):
        taken.append(pick_cpu(cpus, taken, workers))
    return taken


def test_workers_spread_evenly_over_the_cpus():
    assert spawn([0, 1], 4) == [0, 1, 0, 1]
    assert sorted(spawn([2, 5, 7], 6)) == [2, 2, 5, 5, 7, 7]
    assert spawn([0, 1], 2) == [0, 1]


def test_a_replacement_takes_the_cpu_its_predecessor_left():
    live = [0, 1, 0, 1]
    del live[1]  # the second worker (CPU 1) died
    assert pick_cpu([0, 1], live, 4) == 1
    del live[0]  # and then one on CPU 0 as well
    assert pick_cpu([0, 1], live, 4) == 0


def test_cpus_the_server_may_not_use_are_not_counted():
    # workers pinned before the server's mask changed, to a CPU no longer in it
    assert pick_cpu([0, 1], [3, 3, 0], 4) == 1


@pytest.mark.parametrize(
    ("cpus", "workers"),
    [
        ([0, 1], 3),  # one CPU would get two workers, the other one
        ([0, 1, 2, 3], 2),  # two CPUs crowded, two left idle
        ([0, 1, 2, 3], 6),
        ([0], 4),  # nothing to choose
        ([], 4),  # the platform cannot tell
    ],
)
def test_left_to_the_scheduler_unless_the_workers_fill_the_cpus_evenly(cpus, workers):
    assert pick_cpu(cpus, [], workers) is None


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "auto"), ("", "auto"), ("AUTO", "auto"), (" off ", "off")]
)
def test_mode(value, expected):
    environ = {} if value is None else {"PARLEY_HTTP_CPU_AFFINITY": value}
    assert mode(environ) == expected


def test_mode_refuses_anything_else_with_a_clear_message():
    with pytest.raises(SystemExit, match="PARLEY_HTTP_CPU_AFFINITY must be one of auto, off"):
        mode({"PARLEY_HTTP_CPU_AFFINITY": "yes"})
