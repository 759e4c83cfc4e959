"""Jinja filters and globals of the dashboard's templates. Autoescaping stays on: user
text is never marked safe; links from user data pass :func:`http_url`; text from readers
passes ``reveal_bidi``, which shows each directional control as a marker (a moderator sees
what was sent, and it reorders nothing on the page)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

from flask import Flask, url_for

from services.dashboard.auth import current_moderator
from services.http import container
from shared import timefmt
from shared.moderation import reports
from shared.moderation.review import MAX_SHOWN, wave_signature
from shared.moderation.states import allowed_actions
from shared.ops import collector
from shared.textnorm import encode_bidi, reveal_bidi

QUEUE_LABELS = {"held": "Held", "spam": "Spam", "published": "Published", "rejected": "Rejected"}
ACTION_LABELS = {"approve": "Approve", "spam": "Spam", "reject": "Reject"}
ACTION_KEYS = {"approve": "a", "spam": "s", "reject": "r"}


def http_url(value: str | None) -> str:
    """``value`` if it is an http(s) URL, else "#": no javascript: or data: links. Its
    directional controls are percent-encoded, as a browser would send them anyway, so that
    the address shown when the link is hovered is not reordered by them."""
    if value and urlsplit(value.strip()).scheme in ("http", "https"):
        return encode_bidi(value.strip())
    return "#"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "—"
    seconds = max(0, int(((now or datetime.now(UTC)) - value).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def utc(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def iso(value: datetime | None) -> str:
    """Whole-second ISO 8601 in UTC (``<time datetime>``); "" for no time."""
    return timefmt.iso(value) or ""


def number(value) -> str:
    if value is None:
        return "—"
    return f"{value:+g}" if isinstance(value, float | int) else str(value)


def queue_url(status: str, args: dict, **changes) -> str:
    values = {**args, **changes}
    return url_for("queue.queue", status=status, **{k: v for k, v in values.items() if v})


def nav_counts() -> dict[str, int]:
    return collector.comment_counts(container())


def reported_count() -> int:
    """Comments with readers' reports open (the navigation's Reported count)."""
    with container().stores.moderation_read() as session:
        return reports.reported_count(session)


def install(app: Flask) -> None:
    app.jinja_env.filters.update(
        http_url=http_url,
        ago=ago,
        utc=utc,
        iso=iso,
        iso_z=partial(timefmt.iso, precise=True),
        number=number,
        reveal_bidi=reveal_bidi,
    )
    app.jinja_env.globals.update(
        allowed_actions=allowed_actions,
        queue_url=queue_url,
        nav_counts=nav_counts,
        reported_count=reported_count,
        current_moderator=current_moderator,
        QUEUE_LABELS=QUEUE_LABELS,
        ACTION_LABELS=ACTION_LABELS,
        ACTION_KEYS=ACTION_KEYS,
        wave_signature=wave_signature,
        MAX_SHOWN=MAX_SHOWN,
    )
