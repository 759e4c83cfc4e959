"""Pipeline benchmark: decided comments per second and submit→published latency, with the
Akismet-compatible server answering after 0 ms and after 150 ms.

    make bench        (or: .venv/bin/python -m bench.pipeline [--comments 3000] [--workers 2])

For each Akismet delay, with a bare Flask endpoint's rate measured before and after (how
fast the machine is this hour):
- capacity: N comments are submitted over HTTP while no worker runs, then the workers
  start; decided/s = N / (last decision − first decision), from the stored decided_at;
- latency: comments are offered over HTTP at 100/s for a while with the workers running;
  latency = published_at (stored) − the moment the POST was scheduled.
Every comment is distinct, clean text, so each is checked by Akismet and published.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.common import WORDS, WRK_SCRIPT, add_postgres_option, bench_store, percentile, run_wrk
from tests.support import factories
from tests.support.procs import stack_env, wait_for
from tests.support.stack import API, Running


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."


def submit(client: httpx.Client, rng: random.Random, name: str, email: str) -> str:
    """POST one distinct, clean comment to the bench article; its id."""
    return factories.submit(
        client, "bench", author_name=name, author_email=email, content=sentence(rng)
    )


def send_in_turn(url: str, count: int, threads: int, send, on_ready=None) -> None:
    """``threads`` HTTP clients, one kept per thread, take the numbers 0 … count-1 in turn
    and call ``send(client, rng, n)`` for each.

    Each thread first builds its client and opens its connection; ``on_ready`` is called
    once all of them have, before the first number is taken. On two cores, building 32
    clients takes the load generator hundreds of milliseconds, which would otherwise land
    on the first comments of a paced run as if Parley had been slow. The first error of
    any thread stops the others and is raised here.
    """
    numbers = iter(range(count))
    lock = threading.Lock()
    ready = threading.Barrier(threads, action=on_ready)
    errors: list[BaseException] = []

    def run(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                client.get("/healthz").raise_for_status()
                ready.wait(timeout=60)
                while not errors:
                    with lock:
                        n = next(numbers, None)
                    if n is None:
                        return
                    send(client, rng, n)
        except BaseException as exc:  # noqa: BLE001 - raised again by send_in_turn, after the join
            errors.append(exc)
            ready.abort()  # no sender waits for this one

    workers = [threading.Thread(target=run, args=(i + time.time_ns(),)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if errors:  # the first cause, not the others' broken barrier
        raise next(
            (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
        )


def post_many(url: str, count: int, threads: int = 16) -> None:
    """Submit ``count`` distinct comments as fast as ``threads`` HTTP clients can."""
    run = time.time_ns()
    send_in_turn(
        url,
        count,
        threads,
        lambda client, rng, n: submit(client, rng, f"Reader {n}", f"reader{n}.{run}@example.org"),
    )


def offer(url: str, rate: float, seconds: float, senders: int = 32) -> dict[str, float]:
    """POST comments on a fixed schedule, ``rate`` per second (open loop); returns
    {comment id: scheduled send time (epoch)}.

    Latency is counted from the scheduled time, not from when a sender got round to it, so
    a slow answer that delays later sends counts against Parley (no coordinated omission).
    Each sender keeps one HTTP client: building a client per request (TLS context and all)
    would cost the load generator more CPU than Parley spends on the comment. The schedule
    starts once every sender has its client and connection (see :func:`send_in_turn`).
    """
    schedule: dict[str, float] = {}
    lock = threading.Lock()
    sent: dict[str, float] = {}

    def begin() -> None:
        schedule["start"] = time.time() + 0.05

    def send(client: httpx.Client, rng: random.Random, n: int) -> None:
        at = schedule["start"] + n / rate
        if (delay := at - time.time()) > 0:
            time.sleep(delay)
        comment_id = submit(client, rng, f"Paced {n}", f"paced{n}.{time.time_ns()}@example.org")
        with lock:
            sent[comment_id] = at

    send_in_turn(url, int(rate * seconds), senders, send, on_ready=begin)
    return sent


def train_model(db: str, labelled_csv: str) -> None:
    """Give the store a classifier model, as a site with labelled comments has one: the
    ``parley train import`` and ``parley train now`` an administrator would run."""
    parley = str(Path(sys.executable).with_name("parley"))
    env = {**os.environ, "PARLEY_DATABASE_URL": db, "PARLEY_ARTICLE_STORE_URL": db}
    for command in (["train", "import", labelled_csv], ["train", "now"]):
        subprocess.run([parley, *command], env=env, check=True, stdout=subprocess.DEVNULL)


class BareFlask:
    """How fast this machine is this hour: bench/bare.py under the production gunicorn
    settings, loaded with wrk (32 connections) for a few seconds whenever asked, while
    nothing else of the run is busy."""

    def __init__(self, running: Running, env: dict, tmp: Path, name: str):
        _, self.url = running.gunicorn("bench.bare:app", env, name, workers=None)
        self.script = tmp / f"{name}.lua"
        self.script.write_text(WRK_SCRIPT)
        run_wrk(self.url, self.script, 32, 1)  # warm-up
        self.rates: list[float] = []

    def measure(self) -> None:
        self.rates.append(run_wrk(self.url, self.script, 32, 3)["rps"])


def run_delay(delay_ms: int, args, tmp: Path) -> dict:
    db = bench_store(tmp, f"pipeline-{delay_ms}", args.postgres)
    if args.train:
        train_model(db, args.train)
    with Running(tmp) as running:
        redis_url = running.redis()
        # Its own process, as the real service is remote: the load generator's threads do not
        # share a GIL with it.
        akismet_url = running.akismet_process(delay_ms, name=f"akismet-{delay_ms}")
        env = stack_env(db, redis_url, akismet_url)
        _, url = running.gunicorn(API, env, f"api-{delay_ms}")
        engine = sa.create_engine(db)
        running.callback(engine.dispose)
        bare = BareFlask(running, env, tmp, f"bare-{delay_ms}")
        bare.measure()

        # capacity: fill the queue first, then let the workers drain it
        post_many(url, args.comments)
        for i in range(args.workers):
            running.worker(env, name=f"w{i}-{delay_ms}", concurrency=args.concurrency)

        def decided() -> int:
            with engine.connect() as conn:
                return conn.execute(
                    sa.text("SELECT count(*) FROM comments WHERE decided_at IS NOT NULL")
                ).scalar()

        wait_for(
            lambda: decided() >= args.comments, 600, "every comment to be decided", interval=0.5
        )
        with engine.connect() as conn:
            first, last, published = conn.execute(
                sa.text(
                    "SELECT min(decided_at), max(decided_at), sum(CASE WHEN status = 'published' THEN 1 ELSE 0 END) FROM comments"
                )
            ).one()
        span = (
            datetime.fromisoformat(str(last)) - datetime.fromisoformat(str(first))
        ).total_seconds()
        rate = args.comments / span if span > 0 else float("inf")

        # latency at an offered 100 comments/s, workers running
        sent = offer(url, args.rate, args.seconds)
        ids = list(sent)

        def all_published() -> bool:
            with engine.connect() as conn:
                done = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM comments WHERE status = 'published' AND id IN :ids"
                    ).bindparams(sa.bindparam("ids", expanding=True)),
                    {"ids": ids},
                ).scalar()
            return done == len(ids)

        wait_for(all_published, 120, "the paced comments to be published", interval=0.5)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, published_at FROM comments WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            ).all()
        latencies = [
            (datetime.fromisoformat(str(at)).replace(tzinfo=UTC).timestamp() - sent[cid]) * 1000
            for cid, at in rows
        ]
        bare.measure()
    return {
        "bare": bare.rates,
        "rate": rate,
        "published": published,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "n_latency": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument("--concurrency", type=int, default=32, help="threads per worker")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="offered comments/s for the latency run"
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--delays", default="0,150", help="Akismet answer delays to run, ms, comma-separated"
    )
    parser.add_argument(
        "--train",
        metavar="CSV",
        help="train the classifier on this labelled CSV first (text,label), so it scores",
    )
    add_postgres_option(parser)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="parley-pipeline-"))
    print(
        f"== pipeline benchmark: {args.comments} comments, {args.workers} worker processes × "
        f"{args.concurrency} threads, {'PostgreSQL' if args.postgres else 'SQLite'}; latency at {args.rate:g}/s offered for {args.seconds:g}s"
    )
    results = {}
    delays = [int(d) for d in args.delays.split(",")]
    for delay in delays:
        results[delay] = r = run_delay(delay, args, tmp)
        print(
            f"  Akismet {delay:3d} ms: {r['rate']:7.1f} decided/s ({r['published']} published)   "
            f"submit→published p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  (n={r['n_latency']})"
            f"   bare Flask {min(r['bare']):,.0f}-{max(r['bare']):,.0f}/s before and after"
        )
    if 0 not in results or 150 not in results:
        return
    ratio = results[150]["rate"] / results[0]["rate"]
    print(
        f"  150 ms / 0 ms decided rate: {ratio:.2f}   (targets: >= 200 decided/s at 150 ms, ratio >= 0.6, "
        f"p99 <= 150 ms + Akismet latency)"
    )


if __name__ == "__main__":
    main()
