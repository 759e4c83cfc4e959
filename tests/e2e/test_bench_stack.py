"""The whole-stack benchmark (bench/stack.py) in a tiny mode: every figure printed with a
sane value, and no process left behind, whether it ends by itself or is killed with -9.

It starts ``make run``'s four processes under scripts/supervise, the Akismet-compatible
server, a private Redis and a bare Flask server; a run that left any of them behind would
hold ports, CPU and memory through every later test and benchmark on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from bench.footprint import cmdline
from tests.support.procs import ROOT, descendants, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not shutil.which("wrk"), reason="wrk is not installed (make test and make bench do)"
    ),
]

TINY = ["--rounds", "1", "--seconds", "2", "--connections", "4", "--warmup", "0"]
LABELS = (
    "intake accepted/s, worker running",
    "ratio to bare Flask",
    "intake p50 / p99",
    "bare Flask p50 / p99",
    "read /articles/<slug>",
    "read /api/v1/articles/<slug>/comments",
    "drain after the burst",
    "left to check at the burst's end",
    "comments lost",
    "PSS of the stack, idle",
    "PSS of the stack, after the burst",
)
ROLES = {
    "supervisor",
    "api master",
    "api worker",
    "intake writer",
    "dashboard master",
    "dashboard worker",
    "worker",
    "beat",
}


def bench(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.stack", *TINY, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Watch:
    """Every process below ``proc`` seen while it runs, with its command line (a pid
    number reused later by another program does not count as left behind)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.seen = proc, {}
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while self.proc.poll() is None:
            self.look()
            time.sleep(0.5)

    def look(self) -> None:
        for pid in descendants(self.proc.pid):
            self.seen.setdefault(pid, cmdline(pid))

    def left(self) -> list[str]:
        return [
            f"{pid}: {line}" for pid, line in self.seen.items() if line and cmdline(pid) == line
        ]


@pytest.mark.timeout(300)  # the stack's start-up, a round of each, the drain, the stop
def test_a_tiny_run_prints_every_figure_and_stops_everything(tmp_path):
    figures_file = tmp_path / "figures.json"
    proc = bench("--json", str(figures_file))
    watch = Watch(proc)
    try:
        out, _ = proc.communicate(timeout=270)
    finally:
        proc.kill()
    watch.thread.join(5)
    assert proc.returncode == 0, out[-4000:]
    for label in LABELS:
        assert label in out, f"{label!r} missing from:\n{out}"

    f = json.loads(figures_file.read_text())
    assert f["bare_rps"] > 100
    assert f["stack_accepted_rps"] > 1
    assert 0 < f["ratio"] < 2
    assert 0 < f["stack_p50_ms"] <= f["stack_p99_ms"] < 30_000
    for path, reads in f["reads"].items():
        assert reads["n"] >= 2, path
        assert 0 < reads["p50_ms"] <= reads["p99_ms"] < 30_000, path
    assert f["accepted_ids"] > 0
    assert f["stored"] >= f["accepted_ids"]  # a request cut at the end may be stored too
    assert f["drain_s"] is not None and f["drain_s"] < 60
    assert len(f["backlog_rounds"]) == 1 and f["backlog_rounds"][0] >= 0
    assert f["lost_missing"] == f["lost_undecided"] == 0
    roles = {p["role"] for p in f["processes"]["idle"]}
    assert roles >= ROLES, roles
    assert 100 < f["pss_idle_mib"] < 4000
    assert f["pss_after_mib"] > 0
    assert len(watch.seen) >= len(ROLES) + 3  # and Redis, Akismet, bare Flask

    wait_for(lambda: not watch.left(), 10, "no process left")


@pytest.mark.timeout(240)
def test_a_run_killed_with_sigkill_leaves_no_process(tmp_path):
    proc = bench()
    watch = Watch(proc)
    try:
        for line in proc.stdout:
            if "stack ready" in line:
                break
        else:
            pytest.fail("the stack did not start")
        watch.look()
        assert len(watch.seen) >= len(ROLES) + 3
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # The supervisor's grace is 10 s, then it kills what is left.
        wait_for(lambda: not watch.left(), 60, "every process of the killed run to stop")
    finally:
        if proc.poll() is None:
            proc.kill()
        for line in watch.left():
            try:
                os.kill(int(line.split(":")[0]), signal.SIGKILL)
            except OSError:
                pass
