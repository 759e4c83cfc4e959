"""What admins do with webhooks (docs/contract.md §4), for the admin API and the dashboard:
register an endpoint (its secret shown once), list, delete, enable again, page through its
deliveries, replay a time range. Functions take a session; the caller commits."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.accounts import audit
from shared.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from shared.timefmt import iso
from shared.webhooks.addresses import url_errors
from shared.webhooks.fanout import delivery_row, insert_deliveries

# docs/contract.md §6: the event types an endpoint may ask for.
EVENT_TYPES = (
    "comment.received",
    "comment.held",
    "comment.spam",
    "comment.discarded",
    "comment.published",
    "comment.unpublished",
    "comment.rejected",
    "comment.reported",
    "comment.erased",
)
SECRET_MIN, SECRET_MAX = 16, 256
MAX_PAGE = 100


class Invalid(ValueError):
    """Field errors, as the 422's ``errors`` object."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("invalid fields")
        self.errors = errors


def validate(data: dict, allow_private: bool) -> tuple[str, list[str], str | None]:
    """``url``, ``events`` and ``secret`` of a new endpoint; raises :class:`Invalid`."""
    errors: dict[str, list[str]] = {}
    url = data.get("url")
    if problems := url_errors(url, allow_private):
        errors["url"] = problems
    events = data.get("events")
    if (
        not isinstance(events, list)
        or not events
        or not all(isinstance(e, str) and e in EVENT_TYPES for e in events)
    ):
        errors["events"] = [f"must be a non-empty list of: {', '.join(EVENT_TYPES)}"]
    secret = data.get("secret")
    if secret is not None and not (
        isinstance(secret, str)
        and SECRET_MIN <= len(secret) <= SECRET_MAX
        and secret.isascii()
        and secret.isprintable()
        and not any(ch.isspace() for ch in secret)
    ):
        errors["secret"] = [
            f"must be {SECRET_MIN}–{SECRET_MAX} printable ASCII characters without spaces"
        ]
    if errors:
        raise Invalid(errors)
    return url, list(dict.fromkeys(events)), secret


def create(session: Session, data: dict, actor: str, allow_private: bool) -> dict:
    """Register an endpoint; its JSON with the secret (the only time it is shown)."""
    url, events, secret = validate(data, allow_private)
    endpoint = WebhookEndpoint(
        url=url,
        events=events,
        secret=secret or f"whsec_{secrets.token_urlsafe(32)}",
        created_at=utcnow(),
        created_by=actor,
        consecutive_failures=0,
    )
    session.add(endpoint)
    session.flush()
    audit(session, actor, "webhook.create", endpoint.id, url=url, events=events)
    return {**endpoint_json(endpoint), "secret": endpoint.secret}


def endpoint_json(endpoint: WebhookEndpoint) -> dict:
    """An endpoint as the API shows it: never its secret."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "created_at": iso(endpoint.created_at),
        "created_by": endpoint.created_by,
        "enabled": endpoint.disabled_at is None,
        "disabled_at": iso(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "last_delivered_at": iso(endpoint.last_delivered_at),
    }


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)))


def get(session: Session, endpoint_id: str) -> WebhookEndpoint | None:
    return session.get(WebhookEndpoint, endpoint_id) if len(endpoint_id) <= 32 else None


def remove(session: Session, endpoint_id: str, actor: str) -> bool:
    """Delete an endpoint with its deliveries (pending ones are never sent)."""
    endpoint = get(session, endpoint_id)
    if endpoint is None:
        return False
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
    session.delete(endpoint)
    audit(session, actor, "webhook.delete", endpoint_id, url=endpoint.url)
    return True


def enable(session: Session, endpoint_id: str, actor: str) -> WebhookEndpoint | None:
    """Enable a disabled endpoint again: its pending deliveries are tried again (the
    tick queues them), new events reach it again."""
    endpoint = get(session, endpoint_id)
    if endpoint is None:
        return None
    if endpoint.disabled_at is not None:
        now = utcnow()
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        endpoint.consecutive_failures = 0
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
            .values(next_attempt_at=now, queued_until=None)
        )
        audit(session, actor, "webhook.enable", endpoint_id, url=endpoint.url)
    return endpoint


def delivery_json(row: WebhookDelivery) -> dict:
    return {
        "id": row.delivery_id,
        "event_id": row.event_id,
        "type": row.type,
        "comment_id": row.comment_id,
        "article": row.article,
        "event_at": iso(row.event_at),
        "replay": row.replay,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
        "last_status_code": row.last_status_code,
        "last_response": row.last_response,
        "last_error": row.last_error,
        "created_at": iso(row.created_at),
        "finished_at": iso(row.finished_at),
    }


def deliveries(
    session: Session, endpoint_id: str, limit: int = 50, cursor: str | None = None
) -> tuple[list[WebhookDelivery], str | None]:
    """An endpoint's deliveries, newest first, a page at a time; raises ValueError for a
    bad limit or cursor."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be from 1 to {MAX_PAGE}")
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 19:
            raise ValueError("cursor is not one this API gave")
        query = query.where(WebhookDelivery.id < int(cursor))
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].id) if more else None)


def parse_instant(value: object) -> datetime:
    """An ISO 8601 date-time (UTC if it has no offset); raises ValueError."""
    if not isinstance(value, str) or len(value) > 40 or "\0" in value:
        raise ValueError("must be an ISO 8601 date-time")
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def replay(session: Session, settings, endpoint: WebhookEndpoint, data: dict, actor: str):
    """New deliveries to ``endpoint`` of every archived event of its types with
    ``since <= at < until`` (until: now), oldest first, with their own ``event_id``s.
    Returns the new rows' ids (to queue after the commit); raises :class:`Invalid`."""
    errors: dict[str, list[str]] = {}
    bounds = {}
    for field in ("since", "until"):
        if field == "until" and data.get(field) is None:
            continue
        try:
            bounds[field] = parse_instant(data.get(field))
        except ValueError:
            errors[field] = ["must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z"]
    if not errors and "until" in bounds and bounds["until"] <= bounds["since"]:
        errors["until"] = ["must be after since"]
    if errors:
        raise Invalid(errors)
    now = utcnow()
    query = select(WebhookEvent).where(
        WebhookEvent.at >= bounds["since"], WebhookEvent.type.in_(list(endpoint.events))
    )
    if "until" in bounds:
        query = query.where(WebhookEvent.at < bounds["until"])
    events = session.scalars(query.order_by(WebhookEvent.at, WebhookEvent.id)).all()
    rows = [
        delivery_row(
            settings,
            endpoint.id,
            {
                "event_id": e.event_id,
                "type": e.type,
                "comment_id": e.comment_id,
                "article": e.article,
                "at": e.at,
            },
            now,
            replay=True,
        )
        for e in events
    ]
    ids = insert_deliveries(session.connection(), rows)
    audit(
        session,
        actor,
        "webhook.replay",
        endpoint.id,
        since=iso(bounds["since"]),
        until=iso(bounds.get("until")),
        deliveries=len(ids),
    )
    return ids


def purge(session: Session, settings) -> dict:
    """Forget archived events and settled deliveries older than the retention."""
    cutoff = utcnow() - timedelta(days=settings.webhook_retention_days)
    events = session.execute(delete(WebhookEvent).where(WebhookEvent.at < cutoff)).rowcount
    settled = session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status != "pending", WebhookDelivery.created_at < cutoff
        )
    ).rowcount
    return {"events": events, "deliveries": settled}
