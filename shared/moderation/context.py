"""What the rules need to know beyond the comment itself, looked up in the database.

The lists and dashboard-edited settings are cached per process for a few seconds: the
next check after an edit uses it without a restart, and a busy worker does not reread
them for every comment.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.models import Comment, ListEntry, SettingOverride, utcnow
from shared.moderation.rules import LIST_FIELDS, RuleContext

# Settings a moderator may change in the dashboard, with their types.
TUNABLE = {
    "hold_threshold": float,
    "spam_threshold": float,
    "max_links": int,
    "min_form_seconds": float,
}
CACHE_SECONDS = 3.0


class PolicyCache:
    """Lists and overridden settings, reloaded at most every few seconds."""

    def __init__(self, ttl: float = CACHE_SECONDS):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = -1e9
        self._lists: dict[str, tuple[str, ...]] = {}
        self._overrides: dict[str, str] = {}

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def get(self, session: Session) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
        with self._lock:
            if time.monotonic() - self._loaded_at > self.ttl:
                lists: dict[str, list[str]] = {kind: [] for kind in LIST_FIELDS}
                for kind, value in session.execute(select(ListEntry.kind, ListEntry.value)):
                    lists.setdefault(kind, []).append(value)
                self._lists = {k: tuple(v) for k, v in lists.items() if k in LIST_FIELDS}
                self._overrides = dict(
                    session.execute(select(SettingOverride.key, SettingOverride.value)).all()
                )
                self._loaded_at = time.monotonic()
            return self._lists, self._overrides


def effective(settings: Settings, overrides: dict[str, str]) -> dict[str, float]:
    """Thresholds and limits in force: the dashboard's overrides over the environment."""
    values = {key: getattr(settings, key) for key in TUNABLE}
    for key, raw in overrides.items():
        if key in TUNABLE:
            try:
                values[key] = TUNABLE[key](raw)
            except ValueError:
                pass
    return values


def _others():
    return select(func.count()).select_from(Comment).where(Comment.id != bindparam("h_id"))


# The author's record and the site-wide near-duplicates, in one round trip; built once so
# that every check reuses the compiled statement. The record is the commenter key's
# (shared.commenter), never the e-mail address's: anyone may type a regular's address, to
# borrow their record or to poison it. A comment without a key (stored before keys) has
# none: NULL equals nothing.
_HISTORY = select(
    _others()
    .where(Comment.author_key == bindparam("h_key"), Comment.status == "published")
    .scalar_subquery(),
    _others()
    .where(Comment.author_key == bindparam("h_key"), Comment.status == "spam")
    .scalar_subquery(),
    _others()
    .where(
        Comment.content_hash == bindparam("h_hash"),
        Comment.created_at >= bindparam("h_since", type_=Comment.created_at.type),
    )
    .scalar_subquery(),
)


def rule_context(
    session: Session, settings: Settings, cache: PolicyCache, comment: Comment
) -> tuple[RuleContext, dict]:
    """The :class:`RuleContext` for one comment, and the thresholds in force."""
    lists, overrides = cache.get(session)
    values = effective(settings, overrides)
    since = utcnow() - timedelta(hours=settings.duplicate_window_hours)
    approved, spam, similar = session.execute(
        _HISTORY,
        {
            "h_id": comment.id,
            "h_key": comment.author_key,
            "h_hash": comment.content_hash,
            "h_since": since,
        },
    ).one()
    ctx = RuleContext.from_lists(
        None,
        lists,
        max_links=int(values["max_links"]),
        min_form_seconds=values["min_form_seconds"],
        similar_recent=similar or 0,
        author_spam_count=spam or 0,
        author_approved_count=approved or 0,
    )
    return ctx, values
