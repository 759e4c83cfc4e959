"""The moderation state machine (docs/contract.md §5): which moves exist, and what follows
from them.

Pure: callers check a move here, then perform it in one conditional update. Keeping the
table in one place is what makes "409 for a move the state machine does not allow"
(docs/contract.md §4) the same answer everywhere.
"""

from __future__ import annotations

STATUSES = (
    "received",
    "checking",
    "approved",
    "published",
    "held",
    "spam",
    "discarded",
    "rejected",
    # Erased at its author's request (shared.privacy.erase), from any status: a tombstone
    # that no move leaves.
    "erased",
)

# Moves the system makes on its own.
SYSTEM_TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"checking"}),
    # "received": the check's lease expired (a crashed worker); the sweeper re-queues it.
    "checking": frozenset({"approved", "held", "spam", "discarded", "received"}),
    "approved": frozenset({"published"}),
    # Held for an Akismet error: the periodic recheck asks again.
    "held": frozenset({"checking"}),
    # Readers' reports reached PARLEY_REPORT_THRESHOLD (shared.moderation.reports).
    "published": frozenset({"held"}),
}

# Moderator action -> {from status: to status}. Approval goes through "approved" so that
# the publisher, not the request, puts the comment in the article store exactly once.
MODERATOR_ACTIONS: dict[str, dict[str, str]] = {
    "approve": {"held": "approved", "spam": "approved"},
    "spam": {"held": "spam", "published": "spam"},
    "reject": {"held": "rejected", "spam": "rejected", "published": "rejected"},
}

# A moderator's note on an action (the history's and the activity log's "why").
MAX_NOTE = 2000
NOTE_RULE = f"must be a string of at most {MAX_NOTE:,} characters"

EVENT_FOR_STATUS: dict[str, str] = {
    "received": "comment.received",
    "published": "comment.published",
    "held": "comment.held",
    "spam": "comment.spam",
    "discarded": "comment.discarded",
    "rejected": "comment.rejected",
    "erased": "comment.erased",
}
UNPUBLISHED_EVENT = "comment.unpublished"

_VERBS = {"approve": "approve", "spam": "mark as spam", "reject": "reject"}


class IllegalTransition(ValueError):
    """A move the state machine does not allow; the admin API answers 409."""


class UnknownAction(IllegalTransition):
    """An action name that does not exist at all (a client error rather than a conflict)."""


def can_move(current_status: str, target_status: str) -> bool:
    """Whether the system (worker, publisher, sweeper) may move a comment this way."""
    return target_status in SYSTEM_TRANSITIONS.get(current_status, frozenset())


def system_move(current_status: str, target_status: str) -> str:
    """``target_status`` if the system may move there, else :class:`IllegalTransition`."""
    if not can_move(current_status, target_status):
        raise IllegalTransition(f"cannot move a comment from {current_status} to {target_status}")
    return target_status


def check_action(action: str) -> str:
    """``action`` if it is a moderator's action; :class:`UnknownAction` otherwise."""
    if action not in MODERATOR_ACTIONS:
        raise UnknownAction(
            f"unknown action {action!r} (expected one of: {', '.join(MODERATOR_ACTIONS)})"
        )
    return action


def allowed_actions(status: str) -> list[str]:
    """The moderator's actions the state machine allows from ``status``, in button order."""
    return [action for action, moves in MODERATOR_ACTIONS.items() if status in moves]


def valid_note(note: object) -> bool:
    """Whether ``note`` may go with an action: absent, or a string within :data:`MAX_NOTE`."""
    return note is None or (isinstance(note, str) and len(note) <= MAX_NOTE)


def moderator_move(current_status: str, action: str) -> str:
    """The status a moderator's action leads to from ``current_status``.

    Raises :class:`IllegalTransition` with a sentence fit for the 409 answer, e.g.
    "cannot approve a comment that is published".
    """
    target = MODERATOR_ACTIONS[check_action(action)].get(current_status)
    if target is None:
        raise IllegalTransition(f"cannot {_VERBS[action]} a comment that is {current_status}")
    return target


def needs_unpublish(from_status: str, to_status: str) -> bool:
    """Whether the move takes the comment out of the article store."""
    return from_status == "published" and to_status != "published"


def events_for(from_status: str, to_status: str) -> list[str]:
    """Event types (docs/contract.md §6) to append for one move, in order; none for inner steps."""
    events = [UNPUBLISHED_EVENT] if needs_unpublish(from_status, to_status) else []
    # A re-queued check (lease expired) was already announced as received.
    requeue = from_status == "checking" and to_status == "received"
    if not requeue and to_status != from_status and to_status in EVENT_FOR_STATUS:
        events.append(EVENT_FOR_STATUS[to_status])
    return events


def akismet_feedback(action: str, akismet_verdict: str | None) -> str | None:
    """What to report to Akismet after a moderator's action, per docs/contract.md §4.

    Only a correction teaches Akismet: approving what it called spam is a missed ham,
    marking as spam what it called ham is a missed spam. Anything else says nothing new.
    """
    if action == "approve" and akismet_verdict in ("spam", "discard"):
        return "ham"
    if action == "spam" and akismet_verdict == "ham":
        return "spam"
    return None
