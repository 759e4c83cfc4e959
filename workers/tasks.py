"""Celery tasks: thin adapters over the handlers in :mod:`shared.moderation`.

Every task is idempotent (conditional updates, inserts keyed by comment id), acknowledged
late and rejected back to the queue if its worker dies. Only transient errors are retried.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from shared import events, taskqueue
from shared.classifier import training
from shared.moderation import actions, maintenance, pipeline, publishing
from shared.ops import series
from shared.privacy import retention
from shared.spam import FeedbackError
from workers.app import app
from workers.runtime import container, gate

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)
# Transient errors only (a database or broker hiccup), with exponential backoff and jitter;
# anything else is a bug or a configuration error and is not retried.
RETRY_TRANSIENT = dict(
    autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, retry_jitter=True
)


@app.task(name=taskqueue.CHECK, max_retries=5, **RETRY_TRANSIENT)
def check_comment(comment_id: str, recheck: bool = False) -> str | None:
    """Check and decide one comment (or recheck one held for an Akismet error); after the
    intake's comments while it is saturated (shared.intake.pressure)."""
    return gate().run(lambda: pipeline.check_comment(container(), comment_id, recheck=recheck))


@app.task(name=taskqueue.CHECK_MANY, max_retries=5, **RETRY_TRANSIENT)
def check_comments(comment_ids: list[str]) -> list[str | None]:
    """Check the comments of one intake batch (each claimed on its own, so idempotent);
    after the intake's comments while it is saturated (shared.intake.pressure)."""
    return gate().run(lambda: pipeline.check_comments(container(), comment_ids))


@app.task(name=taskqueue.PUBLISH, max_retries=8, **RETRY_TRANSIENT)
def publish_comment(comment_id: str) -> bool:
    """Publish an approved comment to the article store, exactly once."""
    return publishing.publish_comment(container(), comment_id)


@app.task(name=taskqueue.UNPUBLISH, max_retries=8, **RETRY_TRANSIENT)
def unpublish_comment(comment_id: str) -> None:
    """Remove a comment from the article store (idempotent)."""
    publishing.unpublish_comment(container(), comment_id)


@app.task(name=taskqueue.FEEDBACK, bind=True, max_retries=6)
def akismet_feedback(self, comment_id: str, kind: str, actor: str = "moderator") -> bool:
    """Report a moderator's correction to Akismet; retried with backoff if Akismet is down."""
    try:
        return actions.send_feedback(container(), comment_id, kind, actor)
    except FeedbackError as exc:
        if not exc.transient:
            log.error(
                "Akismet feedback refused; not retried",
                extra={"comment_id": comment_id, "error": str(exc)},
            )
            return False
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@app.task(name=taskqueue.SWEEP)
def sweep() -> dict:
    """Re-queue comments stored but never queued, stuck in a crashed check, or unpublished,
    after writing the received events that Redis missed."""
    done = maintenance.sweep(container())
    if done["announced"] or done["check"] or done["publish"]:
        log.info("sweeper re-queued comments", extra=done)
    return done


@app.task(name=taskqueue.RELAY_EVENTS)
def relay_events() -> int:
    """Send the recorded events that the processes making the changes could not (Redis was
    down, or they died between their commit and the relay); the number sent."""
    sent = events.relay_pending(container())
    if sent:
        log.info("events relayed from the outbox", extra={"sent": sent})
    return sent


@app.task(name=taskqueue.RETRAIN)
def retrain_classifier() -> dict:
    """Train a new version of the learned classifier once enough labels are new or
    changed since the current one (two counts when there is nothing to do)."""
    return training.retrain(container())


@app.task(name=taskqueue.RECHECK)
def akismet_recheck() -> dict:
    """Queue the Akismet rechecks that are due."""
    return maintenance.queue_rechecks(container())


@app.task(name=taskqueue.PURGE)
def purge() -> dict:
    """Delete spam and discarded comments past their retention."""
    return maintenance.purge(container())


@app.task(name=taskqueue.PURGE_CLIENT_DATA)
def purge_client_data() -> dict:
    """Clear IP, user agent, referrer and Accept-Language from comments received more than
    PARLEY_IP_RETENTION_DAYS ago (but those still waiting for Akismet)."""
    done = retention.purge_client_data(container())
    log.info("client data removed from stored comments", extra=done)
    return done


@app.task(name=taskqueue.OPS_SAMPLE, ignore_result=True)
def ops_sample() -> dict:
    """Sample queue depths and the oldest unchecked age for the ops page (every 15 s)."""
    return series.sample(container())
