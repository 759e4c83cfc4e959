"""What the rules need to know beyond the comment itself, looked up in the database.

The lists, the dashboard-edited settings and the rules' modes and weights (and each list
entry's mode: shared.moderation.modes) are cached per process for a few seconds: the
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
from shared.models import Comment, ListEntry, RuleSetting, SettingOverride, utcnow
from shared.moderation import links as lk
from shared.moderation.modes import RuleMode
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
    """Lists, overridden settings and rule modes, reloaded at most every few seconds."""

    def __init__(self, ttl: float = CACHE_SECONDS):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = -1e9
        self._lists: dict[str, tuple[str, ...]] = {}
        self._trial_lists: dict[str, frozenset[str]] = {}
        self._overrides: dict[str, str] = {}
        self._modes: dict[str, RuleMode] = {}

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def _load(self, session: Session) -> None:
        lists: dict[str, list[str]] = {kind: [] for kind in LIST_FIELDS}
        trial: dict[str, set[str]] = {}
        rows = session.execute(select(ListEntry.kind, ListEntry.value, ListEntry.mode))
        for kind, value, mode in rows:
            if kind not in LIST_FIELDS or mode == "off":
                continue  # an entry switched off is not evaluated at all
            if mode == "trial":
                trial.setdefault(kind, set()).add(value)
            else:
                lists[kind].append(value)
        self._lists = {k: tuple(v) for k, v in lists.items()}
        self._trial_lists = {k: frozenset(v) for k, v in trial.items()}
        self._overrides = dict(
            session.execute(select(SettingOverride.key, SettingOverride.value)).all()
        )
        self._modes = {
            rule: RuleMode(mode, weight)
            for rule, mode, weight in session.execute(
                select(RuleSetting.rule, RuleSetting.mode, RuleSetting.weight)
            )
        }
        self._loaded_at = time.monotonic()

    def _fresh(self, session: Session) -> None:
        if time.monotonic() - self._loaded_at > self.ttl:
            self._load(session)

    def get(self, session: Session) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
        """The lists' entries that are on, by kind, and the overridden settings."""
        with self._lock:
            self._fresh(session)
            return self._lists, self._overrides

    def modes(self, session: Session) -> tuple[dict[str, frozenset[str]], dict[str, RuleMode]]:
        """The list entries on trial, by kind, and the rules' stored modes and weights."""
        with self._lock:
            self._fresh(session)
            return self._trial_lists, self._modes


def rule_modes(settings: Settings, stored: dict[str, RuleMode]) -> dict[str, RuleMode]:
    """The rules' modes in force: stored ones, and PARLEY_CLASSIFIER for the classifier
    while no admin has set it."""
    modes = dict(stored)
    default = getattr(settings, "classifier", "on")
    if "classifier" not in modes and default != "on":
        modes["classifier"] = RuleMode(default)
    return modes


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
    trial_lists, stored_modes = cache.modes(session)
    values = effective(settings, overrides)
    since = utcnow() - timedelta(hours=settings.duplicate_window_hours)
    approved, spam, similar = (
        session.connection()
        .execute(  # Core: no ORM entities to load
            _HISTORY,
            {
                "h_id": comment.id,
                "h_key": comment.author_key,
                "h_hash": comment.content_hash,
                "h_since": since,
            },
        )
        .one()
    )
    ctx = RuleContext.from_lists(
        None,
        lists,
        max_links=int(values["max_links"]),
        min_form_seconds=values["min_form_seconds"],
        similar_recent=similar or 0,
        author_spam_count=spam or 0,
        author_approved_count=approved or 0,
        site_hosts=lk.site_hosts(settings.site_url),
        trial_lists=trial_lists,
        rule_modes=rule_modes(settings, stored_modes),
    )
    return ctx, values
