"""One delivery attempt, and what follows it (docs/contract.md §4).

An attempt claims its row in a short transaction (conditional on the row's attempt count,
so two tasks for one row cannot both send it, and on no earlier delivery of the same
comment to the same endpoint still pending: in order per comment), POSTs the signed event
with no transaction open and records the answer in another. A 2xx within the timeout is
``delivered``; anything else is retried with exponential backoff and jitter until the
deadline, then ``failed``. Its bookkeeping commits without waiting for the disk
(shared.events.without_fsync): a claim or an outcome lost to a power cut only sends the
delivery again, with its ``event_id``. While an attempt is in flight its
``next_attempt_at`` is a lease: a worker killed mid-delivery leaves a row that falls due again when the lease
lapses, and the tick queues it again. Settling a row queues the next one of its comment.

An endpoint is disabled when its last ``PARLEY_WEBHOOK_DISABLE_AFTER`` deliveries all
ended ``failed`` (each after its whole retry window, 24 h by default), with the reason
shown to admins; its pending deliveries wait, and are tried again if it is enabled.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, timedelta

import httpcore
import orjson
from prometheus_client import Counter
from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import aliased

from shared import taskqueue
from shared.events import without_fsync
from shared.models import Comment, WebhookDelivery, WebhookEndpoint, utcnow
from shared.webhooks.addresses import AddressRefused, deadline
from shared.webhooks.fanout import queued_until
from shared.webhooks.signing import signature_header

log = logging.getLogger(__name__)

# docs/contract.md §7.
OUTCOMES = ("delivered", "retry", "failed")
DELIVERIES = Counter(
    "parley_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, retry (failed, will be retried), "
    "failed (given up at the deadline).",
    ["outcome"],
)
for _outcome in OUTCOMES:
    DELIVERIES.labels(outcome=_outcome)

RESPONSE_BYTES = 512  # of each answer, kept with the delivery
BACKOFF_CAP = 3600.0  # seconds between two attempts, at most
# Seconds beyond the timeout (at most the timeout again) before an attempt whose worker
# died is due again.
LEASE_MARGIN = 30.0
# A retry due within this many seconds is queued with a countdown; later ones by the tick.
COUNTDOWN_MAX = 60.0
TICK_BATCH = 500
# The public fields of a comment (docs/contract.md §3), sent with comment.published.
PUBLIC_FIELDS = ("id", "parent_id", "author_name", "author_url", "content", "published_at")

D = WebhookDelivery
_EARLIER = aliased(WebhookDelivery)
_NONE_EARLIER = ~exists().where(
    _EARLIER.endpoint_id == D.endpoint_id,
    _EARLIER.comment_id == D.comment_id,
    _EARLIER.status == "pending",
    _EARLIER.id < D.id,
)
_ENABLED = exists().where(
    WebhookEndpoint.id == D.endpoint_id, WebhookEndpoint.disabled_at.is_(None)
)


# Each endpoint's URL and secret, by id: neither ever changes (an endpoint is registered
# and deleted, never edited), so a process reads them once.
_targets: dict[str, tuple[str, str]] = {}


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int  # after the claim
    delivery_id: str
    endpoint_id: str
    url: str
    secret: str
    event: dict
    deadline: object


@dataclass(frozen=True)
class Answer:
    ok: bool
    status_code: int | None = None
    text: str | None = None
    error: str | None = None


def _iso(at) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def claim(container, pk: int, ticket: int) -> Claimed | None:
    """Take delivery ``pk`` for one attempt if it is still pending with ``ticket``
    attempts, due, first of its comment for its endpoint, and its endpoint enabled."""
    now = utcnow()
    timeout = container.settings.webhook_timeout
    lease = now + timedelta(seconds=timeout + min(LEASE_MARGIN, timeout))
    with without_fsync(container.stores.moderation_engine) as conn:
        row = conn.execute(
            update(D)
            .where(
                D.id == pk,
                D.status == "pending",
                D.attempts == ticket,
                D.next_attempt_at <= now,
                _NONE_EARLIER,
                _ENABLED,
            )
            .values(
                attempts=D.attempts + 1, next_attempt_at=lease, queued_until=None, updated_at=now
            )
            .returning(
                D.attempts,
                D.delivery_id,
                D.endpoint_id,
                D.event_id,
                D.type,
                D.comment_id,
                D.article,
                D.event_at,
                D.deadline,
            )
        ).first()
        if row is None:
            return None
        target = _targets.get(row.endpoint_id)
        if target is None:
            target = conn.execute(
                select(WebhookEndpoint.url, WebhookEndpoint.secret).where(
                    WebhookEndpoint.id == row.endpoint_id
                )
            ).one()
            _targets[row.endpoint_id] = (target.url, target.secret)
    url, secret = _targets[row.endpoint_id]
    return Claimed(
        id=pk,
        attempts=row.attempts,
        delivery_id=row.delivery_id,
        endpoint_id=row.endpoint_id,
        url=url,
        secret=secret,
        event={
            "event_id": row.event_id,
            "type": row.type,
            "comment_id": row.comment_id,
            "article": row.article,
            "at": _iso(row.event_at),
        },
        deadline=row.deadline,
    )


def body_of(container, event: dict) -> bytes:
    """The JSON body: the §6 fields, and for ``comment.published`` the comment's public
    fields as they are now (none if the comment is gone)."""
    body = dict(event)
    if event["type"] == "comment.published":
        with container.stores.moderation_read() as session:
            row = session.execute(
                select(*(getattr(Comment, name) for name in PUBLIC_FIELDS)).where(
                    Comment.id == event["comment_id"]
                )
            ).first()
        if row is not None:
            comment = dict(zip(PUBLIC_FIELDS, row, strict=True))
            if comment["published_at"] is not None:
                comment["published_at"] = _iso(comment["published_at"])
            body["comment"] = comment
    return orjson.dumps(body)


def post(pool: httpcore.ConnectionPool, claimed: Claimed, body: bytes, timeout: float) -> Answer:
    """POST ``body`` to the endpoint, signed, never following a redirect; a 2xx within
    ``timeout`` seconds is the only success. Keeps the answer's first bytes."""
    started = time.monotonic()
    url = httpcore.URL(claimed.url)
    host = url.host.decode("ascii")
    default_port = 443 if url.scheme == b"https" else 80
    netloc = host if url.port in (None, default_port) else f"{host}:{url.port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if url.port in (None, default_port) else f"[{host}]:{url.port}"
    headers = [
        (b"Host", netloc.encode("ascii")),
        (b"Content-Type", b"application/json"),
        (b"Content-Length", str(len(body)).encode()),
        (b"User-Agent", b"Parley-Webhooks/1"),
        (b"X-Parley-Event", claimed.event["type"].encode()),
        (b"X-Parley-Delivery", claimed.delivery_id.encode()),
        (b"X-Parley-Signature", signature_header(claimed.secret, body).encode()),
    ]
    limits = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    try:
        with (
            deadline(timeout),
            pool.stream(
                "POST", url, headers=headers, content=body, extensions={"timeout": limits}
            ) as response,
        ):
            first = b""
            for chunk in response.iter_stream():
                first += chunk
                if len(first) >= RESPONSE_BYTES or time.monotonic() - started > timeout:
                    break
            status = response.status
    except AddressRefused as exc:
        return Answer(False, error=f"refused: {exc}"[:300])
    except httpcore.TimeoutException:
        return Answer(False, error=f"no answer within {timeout:g} s")
    except Exception as exc:  # connection refused, reset, TLS, protocol: all a failed attempt
        return Answer(False, error=f"{type(exc).__name__}: {exc}"[:300])
    text = first[:RESPONSE_BYTES].decode("utf-8", "replace")
    if time.monotonic() - started > timeout:
        return Answer(False, status, text, f"answered after more than {timeout:g} s")
    return Answer(200 <= status < 300, status, text, None if status < 300 else f"HTTP {status}")


def backoff(settings, attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: doubling from
    ``PARLEY_WEBHOOK_RETRY_SECONDS``, at most an hour, with jitter (a random half to
    whole of it, so that a receiver coming back is not hit by every retry at once)."""
    delay = min(BACKOFF_CAP, settings.webhook_retry_seconds * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)


def _next_of(conn, settings, endpoint_id: str, comment_id: str, now) -> tuple[int, int] | None:
    """The next pending delivery of a comment to an endpoint, marked queued: (id, ticket)."""
    row = conn.execute(
        select(D.id, D.attempts)
        .where(D.endpoint_id == endpoint_id, D.comment_id == comment_id, D.status == "pending")
        .order_by(D.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    conn.execute(update(D).where(D.id == row.id).values(queued_until=queued_until(settings, now)))
    return row.id, row.attempts


def _endpoint_failed(conn, settings, claimed: Claimed, answer: Answer, now) -> None:
    """Count a failed delivery against its endpoint; disable the endpoint at the limit."""
    count = conn.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == claimed.endpoint_id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .returning(WebhookEndpoint.consecutive_failures)
    ).scalar()
    limit = settings.webhook_disable_after
    if count is not None and count >= limit:
        last = f"HTTP {answer.status_code}" if answer.status_code else answer.error
        reason = (
            f"disabled after {count} deliveries in a row failed (each retried for "
            f"{settings.webhook_deadline_hours:g} h); the last: {last}"
        )
        disabled = conn.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == claimed.endpoint_id, WebhookEndpoint.disabled_at.is_(None))
            .values(disabled_at=now, disabled_reason=reason[:1000])
        ).rowcount
        if disabled:
            log.warning(
                "webhook endpoint disabled",
                extra={"endpoint_id": claimed.endpoint_id, "reason": reason},
            )


def record(container, claimed: Claimed, answer: Answer) -> tuple[str, list, float | None]:
    """Record an attempt's ``answer``: (outcome, deliveries to queue as (id, ticket), the
    countdown of this one's retry if it is to be queued now)."""
    settings = container.settings
    now = utcnow()
    answered = dict(
        last_status_code=answer.status_code,
        last_response=answer.text,
        last_error=answer.error,
        updated_at=now,
    )
    mine = and_(D.id == claimed.id, D.status == "pending", D.attempts == claimed.attempts)
    countdown = None
    with without_fsync(container.stores.moderation_engine) as conn:
        if answer.ok:
            outcome = "delivered"
            values = dict(status="delivered", finished_at=now, queued_until=None, **answered)
        elif now >= claimed.deadline:
            outcome = "failed"
            values = dict(status="failed", finished_at=now, queued_until=None, **answered)
        else:
            outcome = "retry"
            delay = backoff(settings, claimed.attempts)
            due = min(now + timedelta(seconds=delay), claimed.deadline)
            countdown = max(0.0, (due - now).total_seconds())
            queued = queued_until(settings, due) if countdown <= COUNTDOWN_MAX else None
            if queued is None:
                countdown = None
            values = dict(next_attempt_at=due, queued_until=queued, **answered)
        if conn.execute(update(D).where(mine).values(**values)).rowcount != 1:
            return "lost", [], None  # deleted with its endpoint meanwhile
        following = []
        if outcome == "delivered":
            # Written at most once a second while all goes well: every delivery to an
            # endpoint would otherwise queue on its one row's lock (PostgreSQL).
            conn.execute(
                update(WebhookEndpoint)
                .where(
                    WebhookEndpoint.id == claimed.endpoint_id,
                    (WebhookEndpoint.consecutive_failures != 0)
                    | WebhookEndpoint.last_delivered_at.is_(None)
                    | (WebhookEndpoint.last_delivered_at < now - timedelta(seconds=1)),
                )
                .values(consecutive_failures=0, last_delivered_at=now)
            )
        elif outcome == "failed":
            _endpoint_failed(conn, settings, claimed, answer, now)
        if outcome != "retry":
            following = [
                nxt
                for nxt in [
                    _next_of(conn, settings, claimed.endpoint_id, claimed.event["comment_id"], now)
                ]
                if nxt
            ]
    DELIVERIES.labels(outcome=outcome).inc()
    return outcome, following, countdown


def deliver(container, pk: int, ticket: int) -> str:
    """One attempt at delivery ``pk`` (see the module's docstring); the outcome:
    ``delivered``, ``retry``, ``failed``, or ``skipped`` when there was nothing to do."""
    claimed = claim(container, pk, ticket)
    if claimed is None:
        return "skipped"
    body = body_of(container, claimed.event)
    answer = post(container.webhook_pool, claimed, body, container.settings.webhook_timeout)
    outcome, following, countdown = record(container, claimed, answer)
    if countdown is not None:
        send(container, [(pk, claimed.attempts)], countdown=countdown)
    send(container, following)
    if outcome != "delivered":
        log.info(
            "webhook attempt failed",
            extra={
                "delivery_id": claimed.delivery_id,
                "endpoint_id": claimed.endpoint_id,
                "event_id": claimed.event["event_id"],
                "outcome": outcome,
                "error": answer.error,
            },
        )
    return outcome


def send(container, deliveries: list[tuple[int, int]], countdown: float | None = None) -> bool:
    """Queue an attempt task per (id, ticket), in one round trip; a failure is logged,
    not raised (the tick queues them once their ``queued_until`` lapses)."""
    if not deliveries:
        return True
    try:
        if countdown:
            for pk, ticket in deliveries:
                container.celery.send_task(
                    taskqueue.DELIVER_WEBHOOK, args=[pk, ticket], countdown=countdown, retry=False
                )
            return True
        pipe = container.redis.pipeline(transaction=False)
        for pk, ticket in deliveries:
            container.queue.push(pipe, taskqueue.DELIVER_WEBHOOK, pk, ticket)
        pipe.execute()
        return True
    except Exception as exc:  # Redis down
        log.warning(
            "webhook deliveries not queued; the tick will queue them",
            extra={"deliveries": len(deliveries), "error": str(exc)[:300]},
        )
        return False


def tick(container, limit: int = TICK_BATCH) -> int:
    """Queue the deliveries that are due and not already queued (retries past the
    countdown horizon, attempts whose worker died, tasks lost with Redis): each the first
    pending one of its comment for its endpoint. The number queued."""
    now = utcnow()
    with without_fsync(container.stores.moderation_engine) as conn:
        due = conn.execute(
            select(D.id, D.attempts)
            .where(
                D.status == "pending",
                D.next_attempt_at <= now,
                (D.queued_until.is_(None)) | (D.queued_until <= now),
                _NONE_EARLIER,
                _ENABLED,
            )
            .order_by(D.id)
            .limit(limit)
        ).all()
        if due:
            conn.execute(
                update(D)
                .where(D.id.in_([row.id for row in due]))
                .values(queued_until=queued_until(container.settings, now))
            )
    send(container, [(row.id, row.attempts) for row in due])
    return len(due)
