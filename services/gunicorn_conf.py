"""gunicorn settings shared by the api and dashboard processes (override with GUNICORN_CMD_ARGS).

Also the place where the web processes get their JSON logs (the app factories stay free
of process set-up) and their Prometheus multiprocess identity.
"""

import gc
import multiprocessing
import os
import signal
import sys

from gunicorn import glogging

from services import affinity
from shared.logs import configure_logging
from shared.ops import collector

# One process per CPU this server may use, each kept to its CPU (services/affinity.py),
# 32 threads each; the threads overlap the wait for the intake writer's batch commit.
# On 2 cores, intake benchmark runs taken in turns (2026-11-29), 2 x 16 against 4 x 8, both
# pinned: Parley 2,328 and 2,293 accepted/s against 1,981 and 2,088, bare Flask 7,133
# and 7,227/s against 6,298 and 6,531 (their ratio unchanged: 0.326 and 0.317 against
# 0.314 and 0.320). Unpinned, two processes per core had been the better layout: 4 x 8 gave
# 1,004-1,074 accepted/s, 6 x 6 940-1,002, 3 x 8 951-1,001, 2 x 16 839-939.
# Why 32, not 16: a thread waiting for the writer's answer costs no CPU, but it is taken.
# With 16, a burst's 32 connections kept every thread of both processes waiting, and a
# page view queued behind the comments before Flask even saw it (scratch timing: up to
# 59 ms before the view began, for a view of 2.5 ms). Whole stack, four alternating pairs
# (bench.stack, 2 rounds each, 2026-12-07 19:55-20:15): reads p50 page 15-21 ms against
# 25-32, JSON 10-16 against 16-28; p99 page 64-88 against 73-124 ms; stack ratio
# 0.238-0.291 against 0.238-0.255 (bench/README.md, "Threads for reads").
workers = int(
    os.environ.get(
        "PARLEY_HTTP_WORKERS", len(affinity.usable_cpus()) or multiprocessing.cpu_count()
    )
)
worker_class = "gthread"
threads = int(os.environ.get("PARLEY_HTTP_THREADS", 32))
timeout = 30
graceful_timeout = 20
keepalive = 5
# Each worker process listens on its own socket and the kernel spreads new connections
# over them. With one shared socket, whichever process wakes first accepts a whole burst
# of keep-alive connections, and one core serves them while the other idles (measured:
# one process at 94 % CPU, the other at 0).
reuse_port = True
# Each worker process on one CPU, the workers spread evenly (see services/affinity.py).
_cpu_affinity = affinity.mode()
# The app is loaded once, in the master, and the workers fork from it: the pages of the
# code and data they all import are shared (copy-on-write) instead of loaded once per
# process. Nothing connects at load (shared.bootstrap builds every client lazily), and
# post_fork drops whatever a worker inherited all the same.
preload_app = True
accesslog = None
errorlog = "-"
# api and dashboard would otherwise share one ~/.gunicorn/gunicorn.ctl (and the container
# user has no home); nothing uses gunicornc.
control_socket_disable = True

# Set in the master, before any app (and so any metric) is imported; workers inherit it.
collector.use_host_qualified_ids()


def _service() -> str:
    """``api`` or ``dashboard``, from the app gunicorn was asked to serve."""
    for arg in sys.argv[1:]:
        if arg.startswith("services."):
            return arg.split(".", 1)[1].split(":", 1)[0].split(".", 1)[0]
    return "http"


class JsonLogger(glogging.Logger):
    """gunicorn's own lines (boot, worker exits, errors) as JSON, like the app's."""

    def setup(self, cfg):
        super().setup(cfg)
        configure_logging(_service(), cfg.loglevel)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True


logger_class = JsonLogger


def on_starting(server):
    """Refuse a port that something already listens on, as gunicorn does without
    ``reuse_port``: with it, a second server would bind beside the first and quietly take
    half of its connections."""
    import socket

    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a unix socket path: nothing can bind beside it
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address[:2])
            except OSError as exc:
                raise SystemExit(
                    f"cannot listen on {address[0]}:{address[1]}: {exc.strerror}"
                ) from None


def when_ready(server):
    """In the api's master, once it listens and before it forks a worker: start the host's
    intake writer, forked from this process and so sharing the app it preloaded
    (services/intake_writer.py). Its workers then find the writer there; if it dies, the
    next request elects another as before."""
    parley = _parley(server.app, "callable")
    if parley is None or _service() != "api" or parley.settings.intake_writer != "process":
        return
    from services import intake_writer
    from shared.bootstrap import intake_address

    server.parley_writer = intake_writer.fork_from_master(
        intake_address(parley.settings), [*server.SIGNALS, signal.SIGCHLD]
    )


def on_exit(server):
    """In the master, its workers gone: stop the writer it started, which answers what
    already reached it first."""
    writer = getattr(server, "parley_writer", None)
    if writer is not None:
        from shared.intake.protocol import WAIT_SECONDS

        writer.close(WAIT_SECONDS)


def pre_fork(server, worker):
    """In the master: the new worker's CPU, from those of the live workers. And the
    objects the master has made so far leave the garbage collector's generations
    (``gc.freeze``): a collection in a worker would otherwise write to every one of them
    and copy the shared pages they sit on into the worker's own memory."""
    gc.freeze()
    worker.parley_cpu = None
    if _cpu_affinity == "auto":
        worker.parley_cpu = affinity.pick_cpu(
            affinity.usable_cpus(),
            [getattr(live, "parley_cpu", None) for live in server.WORKERS.values()],
            server.num_workers,
        )


def post_fork(server, worker):
    """In the new worker, while it has its only thread: keep to its CPU. Every thread it
    starts later inherits the mask; an intake writer process it starts does not (it takes
    the server's CPUs: shared/intake/submit.py)."""
    if worker.parley_cpu is not None:
        os.sched_setaffinity(0, {worker.parley_cpu})
    parley = _parley(worker, "wsgi")
    if parley is not None:
        parley.after_fork()


def post_worker_init(worker):
    """A 1 ms GIL switch interval (default 5 ms): a thread back from an fsync or a Redis
    round trip, such as the intake writer's, gets the interpreter sooner. Measured with
    the per-process committer that came before the writer: p99 at 32 connections went
    from about 260 ms to under 100 ms. With the writer, 1 and 5 ms measured alike.

    An api process also reaches the host's intake writer now, starting it if no process
    has yet: a writer process takes about a second to start, which the first comment
    would otherwise wait for."""
    sys.setswitchinterval(0.001)
    parley = _parley(worker, "wsgi")
    if parley is not None and _service() == "api":
        parley.committer.connect_soon()


def _parley(holder, attribute: str):
    """The container of the app ``holder`` (a worker's ``wsgi``, the master's app's
    ``callable``) serves, if it has one."""
    return getattr(getattr(holder, attribute, None), "extensions", {}).get("parley")


def worker_exit(server, worker):
    """The api process that started the host's intake writer stops it, after its own last
    requests; the writer answers the comments that already reached it before it exits, and
    the next request elects another writer."""
    parley = _parley(worker, "wsgi")
    if parley is not None:
        parley.close_committer()


def child_exit(server, worker):
    """Prometheus multiprocess mode: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(collector.process_identity(worker.pid))
