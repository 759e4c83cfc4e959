"""Shared pieces of the benchmarks: wrk runs, percentiles, process start-up."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

# The words of the benchmarks' distinct, clean comments: twelve drawn at random make a
# sentence that no rule holds and that the duplicate-text rule (which folds digits, case
# and punctuation away) sees as new.
WORDS = (
    "talks exchange prisoners istanbul delegation ceasefire border families return hope news report "
    "agreement meeting palace turkey ukraine russia peace round next week swap stages written "
    "conditions future careful cautious optimistic sceptical history diplomacy"
).split()

_WRK_LUA = r"""
-- Every request a new author and text: a per-run prefix (wrk's first argument), the thread
-- number and a counter, so no run repeats another's comments (which would be 409 duplicates).
local counter = 0
local threads = {}
local words = {WORDS}
local sentences = SENTENCES
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tnum", #threads)
end
init = function(args)
  tid = args[1] .. "t" .. tnum
  ids, ids_path = {}, args[2]
  math.randomseed(tonumber(args[1], 16) + tnum * 7919)
end
local function text()
  if not sentences then
    return string.format("Benchmark comment %s-%d about the Istanbul talks.", tid, counter)
  end
  local drawn = {}
  for i = 1, 12 do drawn[i] = words[math.random(#words)] end
  local sentence = table.concat(drawn, " ")
  return sentence:sub(1, 1):upper() .. sentence:sub(2) .. "."
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"author_name":"Bench %s","author_email":"b%s.%d@example.org","content":"%s"}',
    tid, tid, counter, text())
  return wrk.format("POST", "/api/v1/articles/SLUG/comments", {["Content-Type"] = "application/json"}, body)
end
"""

# With it, every 202's id is kept and written, one a line, to the file named by wrk's
# second argument (if one is given) when the run ends (done() runs in wrk's main Lua state, which copies
# each thread's table and arguments from it).
_WRK_LUA_IDS = r"""
response = function(status, headers, body)
  if status == 202 then
    local id = string.match(body, '"id":%s*"([^"]+)"')
    if id then ids[#ids + 1] = id end
  end
end
done = function(summary, latency, requests)
  local path = threads[1]:get("ids_path")
  if not path then return end
  local out = assert(io.open(path, "w"))
  for _, thread in ipairs(threads) do
    for _, id in ipairs(thread:get("ids")) do out:write(id, "\n") end
  end
  out:close()
end
"""


def wrk_script(slug: str = "bench", collect_ids: bool = False, sentences: bool = False) -> str:
    """wrk's Lua for POSTing distinct comments to ``slug``; with ``collect_ids``, the ids
    of the 202 answers are written to the file :func:`run_wrk` is given as ``ids_to``.

    The text is one sentence with a counter in it, the same for the rules' duplicate-text
    check (which folds digits away): enough for the intake, which runs no rules. With
    ``sentences`` each text is twelve random :data:`WORDS`, so a worker publishes it."""
    script = (
        _WRK_LUA.replace("/SLUG/", f"/{slug}/")
        .replace("{WORDS}", "{" + ", ".join(f'"{w}"' for w in WORDS) + "}")
        .replace("SENTENCES", "true" if sentences else "false")
    )
    if collect_ids:
        script += _WRK_LUA_IDS
    return script


WRK_SCRIPT = wrk_script()


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


def run_wrk(
    url: str,
    script: Path,
    connections: int,
    seconds: int,
    threads: int = 2,
    ids_to: Path | None = None,
) -> dict:
    """Run wrk against ``url`` and return :func:`parse_wrk`'s figures; a script of
    :func:`wrk_script` with ``collect_ids`` writes the accepted ids to ``ids_to``."""
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
            *([str(ids_to)] if ids_to else []),
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


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    """``--postgres [URL]``: run on PostgreSQL, in a fresh database on the server of URL
    (an existing database there; the tests' server if no URL is given)."""
    from tests.support.stores import PG_ADMIN

    parser.add_argument(
        "--postgres",
        nargs="?",
        const=PG_ADMIN,
        metavar="URL",
        help="run on PostgreSQL (a fresh database on this server; default " + PG_ADMIN + ")",
    )


def empty_store(tmp: Path, name: str, postgres: str | None = None) -> str:
    """The URL of a new, empty store: ``<tmp>/<name>.db``, or a fresh database
    ``parley_bench_<name>`` on the PostgreSQL server of ``postgres``."""
    from tests.support.stores import create_database

    if postgres:
        return create_database(postgres, "parley_bench_" + name.replace("-", "_"))
    return f"sqlite:///{tmp}/{name}.db"


def bench_store(tmp: Path, name: str, postgres: str | None = None) -> str:
    """A migrated store with the "bench" article registered; its URL. SQLite in ``tmp``, or
    a fresh database ``parley_bench_<name>`` on the PostgreSQL server of ``postgres``
    (a URL of an existing database there, e.g. postgresql://postgres@127.0.0.1/test)."""
    from shared.db import Stores
    from shared.migrate import upgrade
    from tests.support.factories import open_article

    db = empty_store(tmp, name, postgres)
    upgrade(db, db)
    stores = Stores.from_urls(db, db)
    open_article(stores, "bench", "Bench", "https://news.example/bench")
    stores.dispose(close=True)
    return db
