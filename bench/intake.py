"""Intake benchmark: comments accepted per second (validate, durable insert, enqueue)
against a bare Flask endpoint under identical gunicorn settings, in one run.

    make bench        (or: .venv/bin/python -m bench.intake [--rounds 10] [--seconds 4]
                       [--connections 32] [--postgres postgresql://postgres@127.0.0.1/test])

Both servers run side by side and take the load in turns: each round loads one, then the
other (the order alternating), so a machine that speeds up or slows down during the run
(shared hosts do, by a third within minutes) weighs on both alike. The ratio is that of
the total rates; the per-round ratios show how steady it was.

Rate limit and flood control are switched off (one load generator is one IP); everything
else is the real intake path on the default SQLite store with WAL and synchronous=FULL,
and a real Redis broker. No worker runs, so the checks queue simply grows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import redis as redis_lib
import sqlalchemy as sa

from bench.common import WRK_SCRIPT, add_postgres_option, bench_store, interleaved, run_wrk
from tests.support.procs import stack_env
from tests.support.stack import API, Running

TARGETS = (("bare Flask", "bench.bare:app"), ("Parley intake", API))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Ten rounds: the per-round ratio of one run spreads by a third (each round's 32
    # connections land unevenly on the four processes), so five left the total's ratio
    # a few hundredths from run to run.
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=4, help="load per target and round")
    parser.add_argument("--connections", type=int, default=32)
    add_postgres_option(parser)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    db = bench_store(tmp, "parley", args.postgres)
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT)
    with Running(tmp) as running:
        redis_url = running.redis()
        redis = running.enter_context(redis_lib.Redis.from_url(redis_url))
        env = stack_env(db, redis_url)
        print(
            f"== intake benchmark: {args.connections} connections, {args.rounds} rounds of "
            f"{args.seconds}s per target, "
            + ("PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)")
        )
        # The servers stop (and their intake writers commit what they hold) before the rows
        # are counted.
        with Running(tmp) as servers:
            slices = load_in_turns(servers, env, script, args)
        engine = sa.create_engine(db)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM comments")).scalar()
        engine.dispose()
        queued = redis.llen("checks")
    rates = {}
    for name, runs in slices.items():
        rates[name] = sum(r["requests"] for r in runs) / (args.seconds * len(runs))
        p99s = [r["p99_ms"] for r in runs]
        print(
            f"  {name:14s} {rates[name]:8.0f} req/s"
            f"   p50 {statistics.median(r['p50_ms'] for r in runs):6.1f} ms"
            f"   p99 {statistics.median(p99s):6.1f} ms (worst round {max(p99s):.1f})"
            f"   non-2xx {sum(r['non_2xx'] for r in runs)}"
            f"   socket errors: {', '.join(sorted({r['socket_errors'] for r in runs}))}"
        )
    ratio = rates["Parley intake"] / rates["bare Flask"]
    per_round = [
        p["rps"] / b["rps"]
        for b, p in zip(slices["bare Flask"], slices["Parley intake"], strict=True)
    ]
    print(
        f"  ratio intake/bare: {ratio:.3f}   (rounds {min(per_round):.2f}-{max(per_round):.2f},"
        f" median {statistics.median(per_round):.2f};"
        " target >= 0.35; p99 target <= 150 ms)"
    )
    print(
        f"  rows stored: {stored}, check tasks queued: {queued}, i.e. {stored / max(queued, 1):.1f} comments"
        " per group commit (one task per committed batch)"
    )


def load_in_turns(servers: Running, env: dict, script: Path, args) -> dict[str, list[dict]]:
    """Start both targets and load them in turns, round by round; each one's wrk figures."""
    slices: dict[str, list[dict]] = {name: [] for name, _ in TARGETS}
    started = {}
    for name, app in TARGETS:
        # The production settings of services/gunicorn_conf.py for both, process count
        # included.
        started[name] = servers.gunicorn(app, env, name.replace(" ", "-"), workers=None)
    for _, url in started.values():
        run_wrk(url, script, args.connections, 3)  # warm-up
    for round_, order in interleaved(list(started.items()), args.rounds):
        for name, (_, url) in order:
            slices[name].append(run_wrk(url, script, args.connections, args.seconds))
        bare, parley = (slices[name][-1]["rps"] for name, _ in TARGETS)
        print(
            f"  round {round_ + 1}/{args.rounds}: bare {bare:6.0f}/s   Parley {parley:6.0f}/s"
            f"   ratio {parley / bare:.2f}"
        )
    return slices


if __name__ == "__main__":
    main()
