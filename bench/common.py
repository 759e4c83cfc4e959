"""Shared pieces of the benchmarks: wrk runs, percentiles, process start-up."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

WRK_SCRIPT = r"""
-- Every request a new author and text: a per-run prefix (wrk argument), the thread number
-- and a counter, so no run repeats another's comments (which would be 409 duplicates).
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tnum", threads)
end
init = function(args)
  tid = args[1] .. "t" .. tnum
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"author_name":"Bench %s","author_email":"b%s.%d@example.org","content":"Benchmark comment %s-%d about the Istanbul talks."}',
    tid, tid, counter, tid, counter)
  return wrk.format("POST", "/api/v1/articles/bench/comments", {["Content-Type"] = "application/json"}, body)
end
"""


def parse_wrk(output: str) -> dict:
    """Requests/s, non-2xx count and latency percentiles from ``wrk --latency`` output."""

    def ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}_ms"] = ms(re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(bad.group(1)) if bad else 0
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Socket errors: (.*)", output)
    result["socket_errors"] = errors.group(1) if errors else "none"
    return result


def run_wrk(url: str, script: Path, connections: int, seconds: int, threads: int = 2) -> dict:
    """Run wrk against ``url`` and return :func:`parse_wrk`'s figures."""
    prefix = uuid.uuid4().hex[:10]
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    out = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            prefix,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    return parse_wrk(out)


def interleaved(items: list, rounds: int) -> Iterator[tuple[int, list]]:
    """``(round, order)`` for each round: ``items`` as given, then reversed, in turn, so
    that a machine that speeds up or slows down during a run weighs on all of them alike."""
    for round_ in range(rounds):
        yield round_, items if round_ % 2 == 0 else items[::-1]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def bench_store(tmp: Path, name: str, postgres: str | None = None) -> str:
    """A migrated store with the "bench" article registered; its URL. SQLite in ``tmp``, or
    a fresh database ``parley_bench_<name>`` on the PostgreSQL server of ``postgres``
    (a URL of an existing database there, e.g. postgresql://postgres@127.0.0.1/test)."""
    from shared.db import Stores
    from shared.migrate import upgrade
    from tests.support.factories import open_article
    from tests.support.stores import create_database, sqlite_store

    if postgres:
        db = create_database(postgres, "parley_bench_" + name.replace("-", "_"))
        upgrade(db, db)
    else:
        db = sqlite_store(tmp, name)
    stores = Stores.from_urls(db, db)
    open_article(stores, "bench", "Bench", "https://news.example/bench")
    stores.dispose(close=True)
    return db
