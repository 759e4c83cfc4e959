"""Compare the intake of several checkouts, interleaved round by round, against bare Flask.

    .venv/bin/python -m bench.compare [--rounds 20] [--seconds 3] [--connections 32]
        NAME=PATH[@VAR=VALUE,...] NAME=PATH ...

The first checkout is the baseline. Each one is served by its own gunicorn (the
production settings, from that checkout) on its own fresh store, all on one private
Redis; every round loads bare Flask and each checkout in turn, the order reversed every
other round. ``@VAR=VALUE`` sets environment variables for one server, e.g.
``PARLEY_HTTP_THREADS=12``. A checkout can be a ``git worktree`` of this repository; it
runs with this checkout's virtualenv and its store is migrated by this checkout, so its
dependencies and schema must be the same.

What it prints per checkout: the rate, its ratio to bare Flask, the CPU each request cost
all of that server's processes (from /proc) and the median p99; per checkout against the
baseline, the median and the range of the per-round rate ratios. The noise is large
(each round's connections land unevenly on the processes, most likely the cause): a
change that made no difference over 30 rounds has shown +10 % over 20. Linux only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from bench.common import WRK_SCRIPT, bench_store, interleaved, run_wrk
from tests.support.procs import Proc, descendants, stack_env, stat_fields
from tests.support.stack import API, Running

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_target(spec: str) -> tuple[str, Path, dict[str, str]]:
    """``NAME=PATH[@VAR=VALUE,...]`` → (name, checkout, environment)."""
    name, sep, rest = spec.partition("=")
    if not sep or not name or not rest:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH[@VAR=VALUE,...], got {spec!r}")
    path, _, assignments = rest.partition("@")
    env = {}
    for assignment in filter(None, assignments.split(",")):
        var, sep, value = assignment.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected VAR=VALUE, got {assignment!r}")
        env[var] = value
    root = Path(path).resolve()
    if not (root / "services" / "gunicorn_conf.py").is_file():
        raise argparse.ArgumentTypeError(f"{root} is not a Parley checkout")
    return name, root, env


def cpu_seconds(proc: Proc) -> float:
    """User and system time so far of a gunicorn master and the live processes below it
    (its workers and the intake writer process)."""
    ticks = 0
    for pid in [proc.popen.pid, *descendants(proc.popen.pid)]:
        try:
            fields = stat_fields(pid)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / _TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", type=parse_target, metavar="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=3, help="load per server and round")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    names = [name for name, _, _ in args.targets]
    if "bare" in names or len(set(names)) != len(names):
        parser.error("names must be distinct and not 'bare'")

    tmp = Path(tempfile.mkdtemp(prefix="parley-compare-"))
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT)
    servers: dict[str, tuple[Proc, str]] = {}
    with Running(tmp) as running:
        redis_url = running.redis()
        # Bare Flask touches no store: a URL for the settings is all it needs.
        plain = stack_env(f"sqlite:///{tmp}/bare.db", redis_url)
        servers["bare"] = running.gunicorn("bench.bare:app", plain, "bare", workers=None)
        for name, root, extra in args.targets:
            env = stack_env(bench_store(tmp, name), redis_url, **extra)
            env["PYTHONPATH"] = str(root)
            servers[name] = running.gunicorn(API, env, name, workers=None, root=root)
        for _, url in servers.values():
            run_wrk(url, script, args.connections, 2)  # warm-up
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        print(f"== {args.rounds} rounds of {args.seconds}s, {args.connections} connections")
        for round_, order in interleaved(list(servers.items()), args.rounds):
            for name, (proc, url) in order:
                before = cpu_seconds(proc)
                run = run_wrk(url, script, args.connections, args.seconds)
                run["cpu_ms"] = 1000 * (cpu_seconds(proc) - before) / max(run["requests"], 1)
                runs[name].append(run)
            print(
                f"  round {round_ + 1}: "
                + "  ".join(f"{name} {runs[name][-1]['rps']:.0f}/s" for name in servers),
                flush=True,
            )
    report(runs, names[0])


def report(runs: dict[str, list[dict]], baseline: str) -> None:
    bare = statistics.mean(run["rps"] for run in runs["bare"])
    for name, series in runs.items():
        rate = statistics.mean(run["rps"] for run in series)
        print(
            f"  {name:12s} {rate:7.0f}/s   ratio to bare {rate / bare:.3f}"
            f"   CPU {statistics.mean(run['cpu_ms'] for run in series):.3f} ms/request"
            f"   p99 {statistics.median(run['p99_ms'] for run in series):.1f} ms"
        )
    for name, series in runs.items():
        if name in ("bare", baseline):
            continue
        ratios = sorted(
            run["rps"] / base["rps"] for run, base in zip(series, runs[baseline], strict=True)
        )
        print(
            f"  {name} / {baseline}: per-round median {statistics.median(ratios):.3f}"
            f" (range {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )


if __name__ == "__main__":
    main()
