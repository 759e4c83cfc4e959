"""The import benchmark: ``parley import`` of a generated 50,000-comment file.

For each store (SQLite by default; ``--postgres [URL]`` adds PostgreSQL) and each format
(WordPress WXR, Disqus): a fresh migrated store, the file written by :mod:`bench.exports`,
then ``parley import`` run as its own process, twice. It prints the first run's time and
rate, the process's peak resident memory (``ru_maxrss`` of the child), the rerun's time
(it must add nothing) and the file's size.

    .venv/bin/python -m bench.imports [--comments 50000] [--postgres [URL]] [--format wordpress]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from bench.exports import generated_disqus, generated_wxr, write
from shared.migrate import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GENERATORS = {"wordpress": generated_wxr, "disqus": generated_disqus}


def _child_run(args: list[str], env: dict) -> tuple[float, int, str, float]:
    """Seconds, peak RSS (KiB), output and CPU seconds (user + system) of one child."""
    started = time.monotonic()
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read() if process.stdout else ""
    seconds = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed ({status}):\n{output}")
    return seconds, usage.ru_maxrss, output, usage.ru_utime + usage.ru_stime


def _stores(kind: str, folder: Path, pg_url: str) -> tuple[str, str, callable]:
    if kind == "sqlite":
        url = f"sqlite:///{folder}/bench-{uuid.uuid4().hex[:6]}.db"
        return url, url, lambda: None
    name = f"parley_bench_import_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, url, drop


def measure(kind: str, format_: str, path: Path, folder: Path, pg_url: str, comments: int) -> dict:
    mod, art, drop = _stores(kind, folder, pg_url)
    try:
        upgrade(mod, art)
        env = {
            **os.environ,
            "PARLEY_ENV": "test",
            "PARLEY_DATABASE_URL": mod,
            "PARLEY_ARTICLE_STORE_URL": art,
            "PARLEY_SECRET_KEY": "bench",
            "PARLEY_REDIS_URL": os.environ.get("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/0"),
        }
        args = [sys.executable, "-m", "cli.main", "import", format_, str(path)]
        first, rss, output, cpu = _child_run(args, env)
        imported = int(re.search(r"comments: ([\d,]+) imported", output)[1].replace(",", ""))
        again, rss_again, output_again, cpu_again = _child_run(args, env)
        added = int(re.search(r"comments: ([\d,]+) imported", output_again)[1].replace(",", ""))
    finally:
        drop()
    return {
        "store": kind,
        "format": format_,
        "comments": comments,
        "imported": imported,
        "seconds": first,
        "cpu_seconds": cpu,
        "rerun_cpu_seconds": cpu_again,
        "rate": imported / first,
        "peak_rss_mib": rss / 1024,
        "rerun_seconds": again,
        "rerun_added": added,
        "rerun_peak_rss_mib": rss_again / 1024,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--format", choices=sorted(GENERATORS), action="append")
    parser.add_argument("--postgres", nargs="?", const=PG_DEFAULT, default=None)
    parser.add_argument("--no-sqlite", action="store_true")
    options = parser.parse_args(argv)
    kinds = ([] if options.no_sqlite else ["sqlite"]) + (["postgres"] if options.postgres else [])
    results = []
    with tempfile.TemporaryDirectory(prefix="parley-bench-import-") as tmp:
        folder = Path(tmp)
        for format_ in options.format or ["wordpress", "disqus"]:
            path = folder / f"{format_}.xml"
            write(path, GENERATORS[format_](options.comments))
            size = path.stat().st_size / 2**20
            for kind in kinds:
                result = measure(kind, format_, path, folder, options.postgres, options.comments)
                result["file_mib"] = size
                results.append(result)
                print(
                    f"import {format_:9} {kind:8} {result['comments']:,} comments "
                    f"({size:.1f} MiB): {result['imported']:,} imported in "
                    f"{result['seconds']:.1f} s ({result['rate']:,.0f}/s; CPU "
                    f"{result['cpu_seconds']:.1f} s), peak RSS "
                    f"{result['peak_rss_mib']:.0f} MiB; rerun {result['rerun_seconds']:.1f} s "
                    f"(CPU {result['rerun_cpu_seconds']:.1f} s), "
                    f"{result['rerun_added']} added; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    return results


if __name__ == "__main__":
    main()
