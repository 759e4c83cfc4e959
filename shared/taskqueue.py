"""The hand-off from intake to the workers: task names, queues and the Celery app.

The API never imports ``workers``; it sends tasks by name. Workers register tasks under
these same names. Enqueue only after the row is committed, and pass ids, never objects.
"""

from __future__ import annotations

import base64
import json
import logging

import uuid_utils
from celery import Celery
from kombu import Exchange, Queue

from shared import broker
from shared.config import Settings
from shared.logs import REQUEST_ID, REQUEST_ID_HEADER

log = logging.getLogger(__name__)

CHECK = "parley.check_comment"
CHECK_MANY = "parley.check_comments"
PUBLISH = "parley.publish_comment"
UNPUBLISH = "parley.unpublish_comment"
FEEDBACK = "parley.akismet_feedback"
SWEEP = "parley.sweep"
RECHECK = "parley.akismet_recheck"
PURGE = "parley.purge"
OPS_SAMPLE = "parley.ops_sample"  # beat's minute sample for the ops page
RELAY_EVENTS = "parley.relay_events"  # beat's relay of the events outbox
RETRAIN = "parley.retrain_classifier"  # beat's retraining of the learned classifier
# Mail (shared/mail), on a queue of its own: a slow mail server never delays a check.
MAIL_PUBLISHED = "parley.mail_published"  # plan the mails of newly published comments
SEND_MAIL = "parley.send_mail"  # send one mail of the mail log
MAIL_TICK = "parley.mail_tick"  # beat's digests, retries and lost mails
PURGE_CLIENT_DATA = "parley.purge_client_data"  # beat's IP retention (shared.privacy)
# Webhooks (shared/webhooks), on a queue of their own for the `deliver` process: a slow
# receiver never delays a check.
DELIVER_WEBHOOK = "parley.deliver_webhook"  # one attempt at one delivery
WEBHOOKS_TICK = "parley.webhooks_tick"  # beat's re-queue of due deliveries
WEBHOOKS_PURGE = "parley.webhooks_purge"  # beat's purge of old events and deliveries

QUEUES = ("checks", "publish", "feedback", "maintenance")
# Beat's periodic relay of the events outbox (shared.events) runs this often.
RELAY_SECONDS = 5.0
# The queues of the `deliver` process (Procfile, docker-compose.yml); `worker` takes QUEUES.
DELIVERY_QUEUES = ("webhooks", "mail")
_QUEUE_OF = {
    CHECK: "checks",
    CHECK_MANY: "checks",
    PUBLISH: "publish",
    UNPUBLISH: "publish",
    FEEDBACK: "feedback",
    SWEEP: "maintenance",
    RECHECK: "maintenance",
    PURGE: "maintenance",
    OPS_SAMPLE: "maintenance",
    RELAY_EVENTS: "maintenance",
    RETRAIN: "maintenance",
    DELIVER_WEBHOOK: "webhooks",
    WEBHOOKS_TICK: "webhooks",
    WEBHOOKS_PURGE: "webhooks",
    MAIL_PUBLISHED: "mail",
    SEND_MAIL: "mail",
    MAIL_TICK: "mail",
    PURGE_CLIENT_DATA: "maintenance",
}
# Published through the anonymous exchange: kombu's Redis transport then pushes straight
# onto the list named by the routing key. Routing through a named exchange would depend on
# binding tables in Redis, which vanish with a Redis restart (no persistence) and which
# kombu 5.7 expires when no consumer refreshes them: messages published meanwhile would be
# dropped silently.
ROUTES = {task: {"queue": Queue(q, Exchange(""), routing_key=q)} for task, q in _QUEUE_OF.items()}


def make_celery(settings: Settings) -> Celery:
    """The Celery app, configured for at-least-once delivery on Redis.

    Tasks are acknowledged late and rejected back to the queue if their worker dies; the
    handlers are idempotent, so a redelivery finds nothing left to do.
    """
    app = Celery("parley", broker=settings.redis_url, set_as_current=False)
    visibility = max(3600, settings.lease_seconds * 4)
    app.conf.update(
        task_default_queue="checks",
        # One direct exchange per queue, so a message lands in exactly its own queue.
        task_queues=[
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
        ],
        task_default_exchange="checks",
        task_default_routing_key="checks",
        task_routes=ROUTES,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        # kombu's Redis transport with the close path that a Redis restart took down
        # guarded (see shared.broker for the cause and the kombu issues).
        broker_transport=broker.TRANSPORT,
        broker_connection_retry_on_startup=True,
        # A worker waits for Redis as long as it is away (Celery gives up after 100
        # attempts by default, about an hour, and the worker exits).
        broker_connection_max_retries=None,
        broker_connection_timeout=2,
        broker_transport_options={
            # Longer than any task can run, so Redis does not redeliver a task that is
            # merely slow; a dead worker's tasks come back after this.
            "visibility_timeout": visibility,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
            "max_retries": 0,
        },
        broker_pool_limit=32,
        timezone="UTC",
        enable_utc=True,
    )
    return app


def _shown(args: tuple) -> str:
    """A short form of task arguments: a list of ids is shown by its length."""
    return ", ".join(
        f"[{len(arg)} items]" if isinstance(arg, list) else repr(arg)[:80] for arg in args
    )


class TaskQueue:
    """Sends tasks by name. Failures are reported, never raised to the caller: the row
    is already committed and the sweeper will queue it."""

    def __init__(self, celery: Celery):
        self.celery = celery

    def send(self, name: str, *args, headers: dict | None = None) -> bool:
        """Send task ``name``; the current request id (if any) rides along as a header so
        the worker's log lines for this task carry it."""
        if headers is None:
            request_id = REQUEST_ID.get()
            headers = {REQUEST_ID_HEADER: request_id} if request_id else None
        try:
            self.celery.send_task(
                name,
                args=list(args),
                retry=False,
                headers=headers,
                # The shown form of the arguments (flower, logs); Celery's default reprs
                # every argument on every send.
                argsrepr=_shown(args),
                kwargsrepr="{}",
            )
            return True
        except Exception as exc:  # broker down: kombu raises OperationalError & friends
            log.warning(
                "enqueue failed, the sweeper will retry", extra={"task": name, "error": str(exc)}
            )
            return False

    def push(self, pipe, name: str, *args) -> None:
        """Add task ``name`` to a Redis pipeline, so that it reaches the broker in the same
        round trip as the pipeline's other commands (the intake writer's events).

        The message is the one ``send`` would publish: Celery builds the task's headers
        and body (``app.amqp.as_task_v2``), wrapped in the envelope of kombu's Redis
        transport and pushed onto the queue's list, as kombu does for the anonymous
        exchange that :data:`ROUTES` uses. A test checks it against kombu's own publish.
        """
        queue = _QUEUE_OF[name]
        task_id = str(uuid_utils.uuid4())  # no system call (see events.event_fields)
        shown = {"argsrepr": _shown(args), "kwargsrepr": "{}"}
        task = self.celery.amqp.as_task_v2(
            task_id, name, args=list(args), kwargs={}, ignore_result=None, **shown
        )
        body = json.dumps(task.body).encode()
        message = {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": task.headers,
            "properties": {
                **task.properties,
                **shown,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid_utils.uuid4()),
            },
        }
        pipe.lpush(queue, json.dumps(message))
