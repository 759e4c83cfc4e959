"""Whole-stack benchmark (issue 24): ``make run``'s four processes under a burst of unique
comments, beside a bare Flask endpoint, in turns.

    make bench        (or: .venv/bin/python -m bench.stack [--postgres [URL]] [--rounds 3]
                       [--seconds 10] [--connections 32] [--redis URL] [--json FILE])

The stack is started as ``make run`` starts it: ``scripts/supervise`` on the Procfile (api
and dashboard under gunicorn with services/gunicorn_conf.py, the Celery worker and beat),
with a metrics directory (PROMETHEUS_MULTIPROC_DIR), a secret key, a fresh store migrated
by ``parley migrate`` and the demo article of ``parley seed-demo``. Two differences, so
that the load is not refused: PARLEY_RATE_LIMIT=off and PARLEY_FLOOD_SECONDS=0. Akismet is
the Akismet-compatible server (tests/akismet_server.py) answering at once, with a key
configured; Redis is a private redis-server (or the database ``--redis`` names, flushed
first), so nothing else on the machine shares the queues.

Each round loads the stack and bare Flask (bench/bare.py, the same gunicorn settings) in
turn, the order alternating, with the same wrk load: ``--connections`` connections POSTing
distinct comments for ``--seconds``. During the stack's burst the worker runs (the real
saturation case) and two readers time ``GET /articles/<slug>`` and
``GET /api/v1/articles/<slug>/comments`` a few times a second each, latency counted from
each read's scheduled time. After the burst, the drain: the time until no comment is
``received``, ``checking`` or ``approved`` (read from the store), before the bare round
starts. At the end every id wrk got a 202 for must be in the store and decided; the ones
that are not are the comments lost. The stack's proportional set size is read per process
idle (after start-up, before any load) and after the last drain.

Every process it starts is stopped however the run ends: on an exception or Ctrl-C by the
``with`` block, and if this process is killed (kill -9 included) each child started here
gets SIGTERM from the kernel (tests.support.procs), the supervisor stopping the four
process groups it runs in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import redis as redis_lib
import sqlalchemy as sa

from bench import footprint
from bench.common import (
    add_postgres_option,
    empty_store,
    interleaved,
    run_wrk,
    wrk_script,
)
from bench.stack_report import UNDECIDED, report, summarise
from shared.articles import DEMO_SLUG
from shared.ops import heartbeat
from tests.support.procs import (
    BIN,
    ROOT,
    Proc,
    base_env,
    free_port,
    stack_values,
    wait_for,
)
from tests.support.stack import Running

READS = (f"/articles/{DEMO_SLUG}", f"/api/v1/articles/{DEMO_SLUG}/comments")


class Stack:
    """``make run``'s processes under scripts/supervise, in a folder of their own (its
    ``var/`` holds beat's schedule, its ``metrics/`` the multiprocess metrics)."""

    def __init__(self, running: Running, folder: Path, db: str, redis_url: str, akismet: str):
        self.folder, self.db = folder, db
        (folder / "var").mkdir(parents=True)
        (folder / "metrics").mkdir()
        # The Procfile names services/gunicorn_conf.py relative to where it runs.
        (folder / "services").symlink_to(ROOT / "services")
        api_port, dashboard_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{api_port}"
        self.dashboard_url = f"http://127.0.0.1:{dashboard_port}"
        values = stack_values(
            db,
            redis_url,
            akismet,
            PARLEY_ENV="development",
            PARLEY_SECRET_KEY=secrets.token_urlsafe(32),
            PARLEY_SITE_URL=self.url,
            PARLEY_API_BIND=f"127.0.0.1:{api_port}",
            PARLEY_DASHBOARD_BIND=f"127.0.0.1:{dashboard_port}",
        )
        self.env = base_env(**values, PROMETHEUS_MULTIPROC_DIR=folder / "metrics")
        for command in ("migrate", "seed-demo", "ensure-demo-admin"):
            subprocess.run(
                [str(BIN / "parley"), command],
                env=self.env,
                cwd=folder,
                check=True,
                capture_output=True,
                timeout=120,
            )
        self.supervisor = Proc(
            "supervise",
            [str(BIN / "python"), str(ROOT / "scripts" / "supervise"), str(ROOT / "Procfile")]
            + ["--grace", "10"],
            self.env,
            folder,
            cwd=folder,
        )
        self.seen: dict[int, str] = {}  # every process of the stack seen: its command line
        running.callback(self.stop)
        self.redis = running.enter_context(
            redis_lib.Redis.from_url(redis_url, decode_responses=True)
        )
        self.engine = sa.create_engine(db)
        running.callback(self.engine.dispose)

    def wait_ready(self, timeout: float = 90) -> None:
        """Both servers answer, the worker beats, all four programs and the intake writer
        run (an api process starts it as it boots)."""
        for url in (self.url, self.dashboard_url):
            wait_for(
                lambda url=url: httpx.get(url + "/healthz", timeout=2).status_code == 200,
                timeout,
                f"{url} to answer (log: {self.supervisor.log_path})",
            )
        wait_for(
            lambda: any(w["alive"] for w in heartbeat.workers(self.redis)),
            timeout,
            "the worker's heartbeat",
        )
        wanted = {"api master", "dashboard master", "worker", "beat", "intake writer"}
        wait_for(
            lambda: wanted <= {p["role"] for p in self.memory()}, timeout, f"processes {wanted}"
        )

    def memory(self) -> list[dict]:
        """:func:`bench.footprint.snapshot` of the stack now; remembers every pid seen."""
        processes = footprint.snapshot(self.supervisor.popen.pid)
        for p in processes:
            self.seen.setdefault(p["pid"], footprint.cmdline(p["pid"]))
        return processes

    def undecided(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT count(*) FROM comments WHERE status IN :s").bindparams(
                    sa.bindparam("s", expanding=True)
                ),
                {"s": list(UNDECIDED)},
            ).scalar()

    def drain(self, timeout: float) -> float | None:
        """Seconds until no comment is left undecided; None if some still are after
        ``timeout``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.undecided() == 0:
                return time.monotonic() - start
            time.sleep(0.2)
        return None

    def statuses(self) -> dict[str, str]:
        """Every stored comment's status, by id."""
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT id, status FROM comments")).all())

    def stop(self) -> None:
        """The supervisor stops its four process groups (SIGTERM, SIGKILL after its
        grace); whatever of them is still alive after that is killed here (a pid whose
        command line is still the one seen, not a new process that got the number)."""
        self.supervisor.stop(timeout=30)
        for pid, line in self.seen.items():
            if line and footprint.cmdline(pid) == line:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


class Readers:
    """One thread per path of :data:`READS`, each GETting it ``rate`` times a second on a
    fixed schedule; a read's latency counts from its scheduled time, so a slow answer that
    delays the next reads counts against them too."""

    def __init__(self, url: str, rate: float):
        self.url, self.rate = url, rate
        self.stopping = threading.Event()
        self.latencies: dict[str, list[float]] = {path: [] for path in READS}
        self.failed: dict[str, int] = dict.fromkeys(READS, 0)
        self.threads = [threading.Thread(target=self._read, args=(p,)) for p in READS]

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _read(self, path: str) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            start, n = time.monotonic(), 0
            while not self.stopping.is_set():
                at = start + n / self.rate
                n += 1
                if self.stopping.wait(max(0.0, at - time.monotonic())):
                    return
                try:
                    ok = client.get(path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.latencies[path].append((time.monotonic() - at) * 1000)
                else:
                    self.failed[path] += 1


def accepted(run: dict) -> float:
    """Accepted (2xx) comments per second of a wrk run."""
    return run["rps"] * (run["requests"] - run["non_2xx"]) / max(run["requests"], 1)


def burst(stack: Stack, script: Path, seconds: int, args, ids: set[str]) -> dict:
    """One stack round: wrk with the readers running, then the drain; the 202s' ids are
    added to ``ids``."""
    ids_file = stack.folder / f"ids-{time.monotonic_ns()}.txt"
    with Readers(stack.url, args.read_rate) as readers:
        run = run_wrk(stack.url, script, args.connections, seconds, ids_to=ids_file)
    got = ids_file.read_text().split()
    ids.update(got)
    run.update(accepted=accepted(run), ids=len(got), reads=readers.latencies)
    run["read_failures"] = readers.failed
    # What the burst left to check: with the intake first (shared/intake/pressure.py) the
    # worker checks little during the burst, and the rest after it.
    run["backlog"] = stack.undecided()
    run["drain_s"] = stack.drain(args.drain_timeout)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10, help="load per target and round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before round 1")
    parser.add_argument("--read-rate", type=float, default=4.0, help="GETs/s per read path")
    # Long enough for the backlog of a burst to drain before the bare round: a bare round
    # run while the worker still drains would be slowed by it, and the ratio flattered.
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds, per round")
    parser.add_argument("--redis", metavar="URL", help="a Redis database for the stack (flushed)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    add_postgres_option(parser)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="parley-stack-"))
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"== whole stack (make run's api, dashboard, worker, beat under scripts/supervise),"
        f" {store}, Akismet 0 ms: {args.connections} connections, {args.rounds} rounds of"
        f" {args.seconds}s per target; logs in {tmp}",
        flush=True,
    )
    script = tmp / "post.lua"
    script.write_text(wrk_script(DEMO_SLUG, collect_ids=True, sentences=True))
    with Running(tmp) as running:
        if args.redis:
            redis_lib.Redis.from_url(args.redis).flushdb()
            redis_url = args.redis
        else:
            redis_url = running.redis()
        akismet = running.akismet_process(0)
        db = empty_store(tmp, "stack", args.postgres)
        started = time.monotonic()
        stack = Stack(running, tmp / "stack", db, redis_url, akismet)
        stack.wait_ready()
        # Bare Flask touches no store: a URL for the settings is all it needs.
        _, bare_url = running.gunicorn(
            "bench.bare:app", base_env(**stack_values(db, redis_url)), "bare", workers=None
        )
        print(f"  stack ready in {time.monotonic() - started:.0f} s", flush=True)
        time.sleep(2)  # settle before the idle reading
        memory = {"idle": stack.memory()}
        ids: set[str] = set()
        if args.warmup:
            burst(stack, script, args.warmup, args, ids)
            run_wrk(bare_url, script, args.connections, args.warmup)
        runs: dict[str, list[dict]] = {"stack": [], "bare": []}
        for round_, order in interleaved(["stack", "bare"], args.rounds):
            for name in order:
                if name == "stack":
                    runs[name].append(burst(stack, script, args.seconds, args, ids))
                else:
                    runs[name].append(run_wrk(bare_url, script, args.connections, args.seconds))
            s, b = runs["stack"][-1], runs["bare"][-1]
            drain = f"{s['drain_s']:.1f} s" if s["drain_s"] is not None else "not drained"
            print(
                f"  round {round_ + 1}/{args.rounds}: bare {b['rps']:6.0f}/s   stack"
                f" {s['accepted']:6.0f} accepted/s (p99 {s['p99_ms']:.0f} ms,"
                f" {s['non_2xx']} non-2xx)   ratio {s['accepted'] / b['rps']:.3f}"
                f"   drain {drain}",
                flush=True,
            )
        stack.drain(args.drain_timeout)  # at once, unless the last round did not drain
        memory["after"] = stack.memory()
        statuses = stack.statuses()
    figures = summarise(runs, ids, statuses, memory, args)
    figures["processes"] = memory
    report(figures, memory, DEMO_SLUG)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
