"""gunicorn with the production config keeps each worker process on one CPU, the workers
spread evenly, and puts a replacement where its predecessor was (services/affinity.py)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess

import httpx
import pytest

from services.affinity import usable_cpus
from tests.support.procs import BIN, ROOT, base_env, children, free_port, wait_for
from tests.support.stack import Running

pytestmark = pytest.mark.e2e

# Two CPUs whatever the machine has, so that the servers stay small.
CPUS = usable_cpus()[:2]
APP = "bench.bare:app"  # the config is what is under test, not the app
several_cpus = pytest.mark.skipif(
    len(CPUS) < 2, reason="one usable CPU: there is nothing to spread the workers over"
)


@pytest.fixture(autouse=True)
def on_two_cpus():
    """The servers start with this process's CPUs limited to :data:`CPUS` (a child inherits
    the mask, as under ``taskset``); this process gets its own back afterwards."""
    if len(CPUS) < 2:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, CPUS)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def workers(master: int) -> dict[int, frozenset[int]]:
    """The master's worker processes, each with the CPUs it may run on."""
    found = {}
    for pid in children(master):
        try:
            found[pid] = frozenset(os.sched_getaffinity(pid))
        except OSError:  # gone meanwhile
            continue
    return found


def all_started(
    master: int, count: int, without: int | None = None, pinned: bool = False
) -> dict[int, frozenset[int]]:
    """The master's ``count`` workers once all have started (``without`` that one); with
    ``pinned``, once each keeps to one CPU. A worker is visible from its fork, a moment
    before its post_fork hook pins it, so a pinned server is read only once all are."""

    def started():
        found = workers(master)
        if len(found) != count or without in found:
            return None
        if pinned and not all(len(mask) == 1 for mask in found.values()):
            return None
        return found

    return wait_for(started, 30, f"{count} workers" + (", each on one CPU" if pinned else ""))


def per_cpu(found: dict[int, frozenset[int]]) -> collections.Counter:
    assert all(len(mask) == 1 for mask in found.values()), found
    return collections.Counter(next(iter(mask)) for mask in found.values())


@several_cpus
def test_workers_keep_to_one_cpu_each_spread_evenly_threads_included(tmp_path):
    count = 2 * len(CPUS)
    with Running(tmp_path) as run:
        proc, url = run.gunicorn(APP, base_env(), "pinned", workers=count)
        found = all_started(proc.popen.pid, count, pinned=True)
        assert per_cpu(found) == dict.fromkeys(CPUS, 2)
        with httpx.Client() as client:  # request threads start with the first requests
            for _ in range(20):
                client.get(url + "/healthz").raise_for_status()
        for pid, mask in found.items():
            for tid in os.listdir(f"/proc/{pid}/task"):
                assert os.sched_getaffinity(int(tid)) == mask, (pid, tid)
        # The master itself is not pinned.
        assert os.sched_getaffinity(proc.popen.pid) == set(CPUS)

        # A worker that dies is replaced on the CPU it left.
        victim = min(found)
        os.kill(victim, signal.SIGKILL)
        again = all_started(proc.popen.pid, count, without=victim, pinned=True)
        assert per_cpu(again) == dict.fromkeys(CPUS, 2)


@several_cpus
def test_off_leaves_the_workers_to_the_scheduler(tmp_path):
    env = base_env(PARLEY_HTTP_CPU_AFFINITY="off")
    with Running(tmp_path) as run:
        proc, _ = run.gunicorn(APP, env, "unpinned", workers=2 * len(CPUS))
        found = all_started(proc.popen.pid, 2 * len(CPUS))
        assert set(found.values()) == {frozenset(CPUS)}


@several_cpus
def test_workers_that_would_crowd_some_cpus_are_left_to_the_scheduler(tmp_path):
    with Running(tmp_path) as run:
        proc, _ = run.gunicorn(APP, base_env(), "odd", workers=len(CPUS) + 1)
        found = all_started(proc.popen.pid, len(CPUS) + 1)
        assert set(found.values()) == {frozenset(CPUS)}


def test_a_bad_setting_stops_the_server_with_a_clear_message():
    result = subprocess.run(
        [
            str(BIN / "gunicorn"),
            "--config",
            "services/gunicorn_conf.py",
            "--bind",
            f"127.0.0.1:{free_port()}",
            APP,
        ],
        cwd=ROOT,
        env=base_env(PARLEY_HTTP_CPU_AFFINITY="sometimes"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PARLEY_HTTP_CPU_AFFINITY must be one of auto, off, not 'sometimes'" in (
        result.stdout + result.stderr
    )
