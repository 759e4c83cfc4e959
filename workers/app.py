"""Celery entrypoint: ``celery --app workers.app worker|beat``.

Reads settings (no connection is made at import), builds the Celery app and the beat
schedule, and leaves the work to :mod:`workers.tasks`, thin adapters over ``shared``.

Shutdown: SIGTERM is Celery's warm shutdown. The worker stops taking messages, lets the
checks in flight finish, and exits; tasks are acknowledged late, so a check that cannot
finish (a SIGKILL, a lost connection) stays in Redis and is delivered again, and the
sweeper re-queues any comment whose check lease expired. Give the process longer than
the slowest check to exit (``stop_grace_period`` in docker-compose.yml).
"""

from __future__ import annotations

import gc
import socket
import sys

from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from shared import logs, taskqueue
from shared.config import load_settings
from shared.ops import collector, series
from workers import runtime
from workers.heartbeat import Heartbeat

# Before any metric exists in this process: multiprocess files named <host>-<pid>.
collector.use_host_qualified_ids()

settings = load_settings()
app = taskqueue.make_celery(settings)
# Beat sends tasks by name and runs none: it does not load their code (nor, through it,
# the models, rules and clients), which keeps it a small process.
_BEAT = "beat" in sys.argv[1:]


def _queues(argv: list[str]) -> set[str]:
    """The queues a ``celery worker`` command line names (``--queues``/``-Q``); empty if none."""
    for i, arg in enumerate(argv):
        if arg.startswith("--queues="):
            return set(arg.split("=", 1)[1].split(","))
        if arg in ("--queues", "-Q") and i + 1 < len(argv):
            return set(argv[i + 1].split(","))
    return set()


# The `deliver` process (webhooks and mail only) loads neither the checks' code nor the
# classifier's: a slow receiver's process stays small (issue 24).
_DELIVER = (
    not _BEAT and bool(_queues(sys.argv)) and _queues(sys.argv) <= set(taskqueue.DELIVERY_QUEUES)
)
if _DELIVER:
    app.conf.include = ["workers.mail_tasks", "workers.webhook_tasks"]
elif not _BEAT:
    app.conf.include = ["workers.tasks", "workers.mail_tasks", "workers.webhook_tasks"]
app.conf.update(
    # A lost broker connection means the broker will deliver our unacknowledged tasks
    # again; cancel them here instead of finishing them twice (Celery 6's default).
    worker_cancel_long_running_tasks_on_connection_loss=True,
    # A cold shutdown (SIGQUIT, second Ctrl-C) still gives the checks in flight a few
    # seconds; what does not finish is restored to the taskqueue.
    worker_soft_shutdown_timeout=10.0,
)
app.conf.beat_schedule = {
    "sweep": {"task": taskqueue.SWEEP, "schedule": float(settings.sweep_seconds)},
    "akismet-recheck": {
        "task": taskqueue.RECHECK,
        "schedule": float(min(settings.akismet_recheck_seconds, 60)),
    },
    "purge": {"task": taskqueue.PURGE, "schedule": 3600.0},
    # PARLEY_IP_RETENTION_DAYS (shared.privacy.retention); a late run is dropped.
    "purge-client-data": {
        "task": taskqueue.PURGE_CLIENT_DATA,
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    # Events left in the outbox (docs/contract.md §6) reach the stream within seconds of
    # Redis coming back; a run that waited past the next one's time is dropped.
    "relay-events": {
        "task": taskqueue.RELAY_EVENTS,
        "schedule": taskqueue.RELAY_SECONDS,
        "options": {"expires": taskqueue.RELAY_SECONDS * 2},
    },
    # The classifier's retraining, when enough labels arrived (shared.classifier.training);
    # a run still waiting when the next is due is dropped.
    "classifier-retrain": {
        "task": taskqueue.RETRAIN,
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # A stale sample is worthless: drop it rather than run it late.
    "ops-sample": {
        "task": taskqueue.OPS_SAMPLE,
        "schedule": series.SAMPLE_SECONDS,
        "options": {"expires": series.SAMPLE_SECONDS * 2},
    },
}
# Webhooks (shared.webhooks.delivery), on the webhooks queue: due retries and attempts
# whose worker died are queued again; a late run is dropped.
app.conf.beat_schedule["webhooks-tick"] = {
    "task": taskqueue.WEBHOOKS_TICK,
    "schedule": settings.webhook_tick_seconds,
    "options": {"expires": settings.webhook_tick_seconds * 2},
}
app.conf.beat_schedule["webhooks-purge"] = {
    "task": taskqueue.WEBHOOKS_PURGE,
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}
if settings.mail_configured:
    # Moderators' digests, mail retries and lost mails (shared.mail.delivery.tick), on the
    # mail queue; a run that waited past the next one's time is dropped. No mail, no tick.
    app.conf.beat_schedule["mail-tick"] = {
        "task": taskqueue.MAIL_TICK,
        "schedule": settings.mail_tick_seconds,
        "options": {"expires": settings.mail_tick_seconds * 2},
    }
runtime.configure(settings)

# Tasks whose first argument is a comment id: every log line of theirs names it.
_COMMENT_TASKS = frozenset(
    {taskqueue.CHECK, taskqueue.PUBLISH, taskqueue.UNPUBLISH, taskqueue.FEEDBACK}
)
_heartbeat: list[Heartbeat] = []


@setup_logging.connect
def _logging(loglevel=None, **_):
    # Connected, so Celery installs no handlers of its own: JSON lines like the web apps.
    logs.configure_logging("beat" if _BEAT else "worker", loglevel or "INFO")


@worker_ready.connect
def _start_heartbeat(sender=None, **_):
    from celery.worker import state

    name = getattr(sender, "hostname", None) or f"celery@{socket.gethostname()}"
    _heartbeat.append(
        Heartbeat(name, runtime.container().redis, lambda: len(state.active_requests)).start()
    )


@worker_ready.connect
def _freeze_heap(**_):
    # After start-up (the heartbeat above built the container): the ~140,000 objects of
    # the code, the app and the container go to the collector's permanent generation. A
    # full collection scanned them all, holding the interpreter for 100-170 ms, while a
    # check held the store's write lock or a comment waited for its claim: the tail of
    # submit→published (bench/README.md, "The worker's collector pauses").
    gc.freeze()


@task_prerun.connect
def _task_context(task=None, args=None, **_):
    logs.REQUEST_ID.set(getattr(task.request, logs.REQUEST_ID_HEADER, None) if task else None)
    one_comment = (
        task is not None and task.name in _COMMENT_TASKS and args and isinstance(args[0], str)
    )
    logs.COMMENT_ID.set(args[0] if one_comment else None)


@task_postrun.connect
def _task_context_done(**_):
    logs.REQUEST_ID.set(None)
    logs.COMMENT_ID.set(None)


@worker_init.connect
def _switch_interval(**_):
    # A 1 ms GIL switch interval (default 5 ms): a thread back from the database, Redis or
    # Akismet, perhaps holding SQLite's write lock, gets the interpreter back sooner.
    sys.setswitchinterval(0.001)


@worker_process_init.connect
def _after_fork(**_):
    # Prefork children must not share the parent's database or Redis connections.
    runtime.reset()


@worker_process_shutdown.connect
@worker_shutdown.connect
def _close(**_):
    while _heartbeat:
        _heartbeat.pop().stop()
    runtime.close()
