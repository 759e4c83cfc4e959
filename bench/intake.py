"""Intake benchmark: comments accepted per second (validate, durable insert, enqueue)
against a bare Flask endpoint under identical gunicorn settings, in one run.

    make bench        (or: .venv/bin/python -m bench.intake [--seconds 15] [--connections 32]
                       [--postgres postgresql://postgres@127.0.0.1/test])

Rate limit and flood control are switched off (one load generator is one IP); everything
else is the real intake path on the default SQLite store with WAL and synchronous=FULL,
and a real Redis broker. No worker runs, so the checks queue simply grows.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis as redis_lib
import sqlalchemy as sa

from bench.common import WRK_SCRIPT, bench_store, run_wrk
from tests.e2e.procs import stack_env, start_gunicorn, start_redis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--postgres", metavar="URL", help="run on PostgreSQL (a fresh database on this server)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    db = bench_store(tmp, "parley", args.postgres)
    redis_proc, redis_url = start_redis(tmp)
    redis = redis_lib.Redis.from_url(redis_url)
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT)
    env = stack_env(db, redis_url)

    print(
        f"== intake benchmark: {args.connections} connections, {args.seconds}s per target, "
        + ("PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)")
    )
    results = {}
    for name, app in (
        ("bare Flask", "bench.bare:app"),
        ("Parley intake", "services.api:create_app()"),
    ):
        # The production settings of services/gunicorn_conf.py for both, process count
        # included.
        proc, url = start_gunicorn(app, env, tmp, name.replace(" ", "-"), workers=None)
        try:
            run_wrk(url, script, args.connections, 3)  # warm-up
            results[name] = run_wrk(url, script, args.connections, args.seconds)
        finally:
            proc.stop()
        time.sleep(1)
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM comments")).scalar()
    engine.dispose()
    queued = redis.llen("checks")
    for name, r in results.items():
        print(
            f"  {name:14s} {r['rps']:8.0f} req/s   p50 {r['p50_ms']:6.1f} ms   p99 {r['p99_ms']:6.1f} ms"
            f"   non-2xx {r['non_2xx']}   socket errors: {r['socket_errors']}"
        )
    ratio = results["Parley intake"]["rps"] / results["bare Flask"]["rps"]
    print(f"  ratio intake/bare: {ratio:.2f}   (target >= 0.35; p99 target <= 150 ms)")
    print(
        f"  rows stored: {stored}, check tasks queued: {queued}, i.e. {stored / max(queued, 1):.1f} comments"
        " per group commit (one task per committed batch)"
    )
    redis.close()
    redis_proc.stop()


if __name__ == "__main__":
    main()
