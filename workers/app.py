"""Celery entrypoint: ``celery --app workers.app worker|beat``.

Reads settings (no connection is made at import), builds the Celery app and the beat
schedule, and leaves the work to :mod:`workers.tasks`, thin adapters over ``shared``.
"""

from __future__ import annotations

from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown

from shared import queue
from shared.config import load_settings
from workers import runtime

settings = load_settings()
app = queue.make_celery(settings)
app.conf.include = ["workers.tasks"]
app.conf.beat_schedule = {
    "sweep": {"task": queue.SWEEP, "schedule": float(settings.sweep_seconds)},
    "akismet-recheck": {"task": queue.RECHECK, "schedule": float(min(settings.akismet_recheck_seconds, 60))},
    "purge": {"task": queue.PURGE, "schedule": 3600.0},
}
runtime.configure(settings)


@worker_process_init.connect
def _after_fork(**_):
    # Prefork children must not share the parent's database or Redis connections.
    runtime.reset()


@worker_process_shutdown.connect
@worker_shutdown.connect
def _close(**_):
    runtime.close()
