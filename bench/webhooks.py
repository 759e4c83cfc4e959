"""Webhook figures (issue 26): deliveries per second to a fast receiver through the real
`deliver` process, the check latency with and without a receiver that hangs every
request, and the `deliver` process's memory (PSS).

    .venv/bin/python -m bench.webhooks [--events 2000] [--comments 300] [--postgres [URL]]

Deliveries: N events of N distinct comments are recorded in the outbox and relayed by the
real relay (its fan-out and queueing), then the `deliver` process (8 threads) sends them
to a receiver answering 204 at once (a threaded http.server in a process of its own);
the rate is N over the time from the relay to the last delivery recorded.

Checks: a private Redis, the main worker (the Procfile's queues) and the `deliver`
process; comments are submitted in process at a steady rate and each one's latency is
``decided_at - created_at``, first with no webhook, then with an endpoint subscribed to
received, held and published whose receiver never answers (each delivery holds a thread
for the 10 s timeout).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.common import add_postgres_option, bench_store, percentile
from bench.footprint import pss_kib
from shared import events
from shared.db import session_scope
from shared.models import Comment, WebhookDelivery
from shared.webhooks import endpoints
from tests.support.factories import letters, submit_in_process
from tests.support.procs import base_env, free_port, stack_values, wait_for
from tests.support.stack import Running

RECEIVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
HANG = float(sys.argv[2])
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if HANG: time.sleep(HANG)
        self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
s = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H); s.daemon_threads = True
s.serve_forever()
"""


def receiver(hang: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port), str(hang)])
    url = f"http://127.0.0.1:{port}/hook"
    time.sleep(0.5)
    return proc, url


def register(container, url: str, types: list[str]) -> None:
    with session_scope(container.stores.moderation) as session:
        endpoints.create(session, {"url": url, "events": types}, "bench", allow_private=True)


def delivered(container) -> int:
    with container.stores.moderation_read() as session:
        return session.scalar(
            sa.select(sa.func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "delivered")
        )


def throughput(folder: Path, db: str, n: int) -> dict:
    with Running(folder) as run:
        values = stack_values(db, run.redis(), PARLEY_WEBHOOK_ALLOW_PRIVATE="1")
        env = base_env(**values)
        container = run.container(values)
        proc, url = receiver(0)
        run.callback(proc.terminate)
        register(container, url, ["comment.held"])
        deliver = run.deliver(env, concurrency=8)
        time.sleep(3)
        idle = pss_kib(deliver.popen.pid)
        rows = [events.new_event("comment.held", f"{i:032x}", "bench") for i in range(n)]
        with session_scope(container.stores.moderation) as session:
            events.record(session, rows)
        started = time.monotonic()
        while events.relay_pending(container):
            pass
        wait_for(lambda: delivered(container) == n, 600, f"{n} deliveries", interval=0.05)
        elapsed = time.monotonic() - started
        return {
            "events": n,
            "seconds": elapsed,
            "per_second": n / elapsed,
            "deliver_pss_mib_idle": (idle or 0) / 1024,
            "deliver_pss_mib_after": (pss_kib(deliver.popen.pid) or 0) / 1024,
        }


def check_latency(folder: Path, db: str, comments: int, hang: bool) -> dict:
    with Running(folder) as run:
        values = stack_values(db, run.redis(), PARLEY_WEBHOOK_ALLOW_PRIVATE="1")
        env = base_env(**values)
        container = run.container(values)
        if hang:
            proc, url = receiver(60)
            run.callback(proc.terminate)
            register(container, url, ["comment.received", "comment.held", "comment.published"])
        worker = run.worker(env)
        run.deliver(env, concurrency=8)
        time.sleep(4)
        tag = "h" if hang else "n"
        ids = []
        for i in range(comments):
            ids.append(
                submit_in_process(
                    container,
                    "bench",
                    f"Remark {letters(i)} {tag} on the talks, calmly put.",
                    email=f"{tag}{i}@example.org",
                )
            )
            time.sleep(0.05)  # 20 comments a second

        def done():
            with container.stores.moderation_read() as session:
                return session.execute(
                    sa.select(Comment.created_at, Comment.decided_at).where(
                        Comment.id.in_(ids), Comment.decided_at.is_not(None)
                    )
                ).all()

        rows = wait_for(lambda: (r := done()) and len(r) == comments and r, 120, "decisions")
        latencies = [(d - c).total_seconds() * 1000 for c, d in rows]
        worker_pss = (pss_kib(worker.popen.pid) or 0) / 1024
        with container.stores.moderation_read() as session:
            attempts = session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(WebhookDelivery.attempts), 0))
            )
        return {
            "hanging_receiver": hang,
            "comments": comments,
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "max_ms": max(latencies),
            "delivery_attempts_started": attempts,
            "worker_pss_mib": worker_pss,
        }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--comments", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("deliveries", "checks"), help="one section only")
    add_postgres_option(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for r in range(args.rounds if args.only != "checks" else 0):
            db = bench_store(folder, f"hooks{r}", args.postgres)
            print("deliveries:", throughput(folder, db, args.events), flush=True)
        for r in range(args.rounds if args.only != "deliveries" else 0):
            for hang in (False, True) if r % 2 == 0 else (True, False):
                db = bench_store(folder, f"checks{r}{int(hang)}", args.postgres)
                print("checks:", check_latency(folder, db, args.comments, hang), flush=True)


if __name__ == "__main__":
    main()
