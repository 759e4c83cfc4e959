"""gunicorn settings shared by the api and dashboard processes (override with GUNICORN_CMD_ARGS)."""

import multiprocessing
import os

workers = int(os.environ.get("PARLEY_HTTP_WORKERS", multiprocessing.cpu_count() * 2))
# gthread keeps connections alive and overlaps the small waits on the database and Redis.
worker_class = "gthread"
threads = int(os.environ.get("PARLEY_HTTP_THREADS", 4))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"


def child_exit(server, worker):
    """Prometheus multiprocess mode: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
