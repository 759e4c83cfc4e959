"""The state machine: every legal move, every illegal one, and what follows from them."""

from __future__ import annotations

import itertools

import pytest

from shared.moderation.states import (
    EVENT_FOR_STATUS,
    MODERATOR_ACTIONS,
    STATUSES,
    SYSTEM_TRANSITIONS,
    UNPUBLISHED_EVENT,
    IllegalTransition,
    UnknownAction,
    akismet_feedback,
    can_move,
    events_for,
    moderator_move,
    needs_unpublish,
    system_move,
)

LEGAL_SYSTEM = {
    ("received", "checking"),
    ("checking", "approved"),
    ("checking", "held"),
    ("checking", "spam"),
    ("checking", "discarded"),
    ("checking", "received"),
    ("approved", "published"),
    ("held", "checking"),
    ("published", "held"),  # reader reports at the threshold
}

LEGAL_MODERATOR = {
    ("held", "approve"): "approved",
    ("spam", "approve"): "approved",
    ("held", "spam"): "spam",
    ("published", "spam"): "spam",
    ("held", "reject"): "rejected",
    ("spam", "reject"): "rejected",
    ("published", "reject"): "rejected",
}

ACTIONS = ("approve", "spam", "reject")


def test_statuses_and_tables_agree():
    assert set(STATUSES) == {
        "received",
        "checking",
        "approved",
        "published",
        "held",
        "spam",
        "discarded",
        "rejected",
        "erased",
    }
    for source, targets in SYSTEM_TRANSITIONS.items():
        assert source in STATUSES and targets <= set(STATUSES)
    for moves in MODERATOR_ACTIONS.values():
        assert set(moves) <= set(STATUSES) and set(moves.values()) <= set(STATUSES)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_system_moves(current, target):
    legal = (current, target) in LEGAL_SYSTEM
    assert can_move(current, target) is legal
    if legal:
        assert system_move(current, target) == target
    else:
        with pytest.raises(IllegalTransition, match=f"from {current} to {target}"):
            system_move(current, target)


@pytest.mark.parametrize(("current", "action"), list(itertools.product(STATUSES, ACTIONS)))
def test_moderator_moves(current, action):
    expected = LEGAL_MODERATOR.get((current, action))
    if expected:
        assert moderator_move(current, action) == expected
    else:
        with pytest.raises(IllegalTransition) as err:
            moderator_move(current, action)
        assert not isinstance(err.value, UnknownAction)
        assert str(err.value).endswith(f"a comment that is {current}")


@pytest.mark.parametrize(
    ("current", "action", "message"),
    [
        ("published", "approve", "cannot approve a comment that is published"),
        ("spam", "spam", "cannot mark as spam a comment that is spam"),
        ("rejected", "reject", "cannot reject a comment that is rejected"),
        ("discarded", "approve", "cannot approve a comment that is discarded"),
    ],
)
def test_illegal_move_messages(current, action, message):
    with pytest.raises(IllegalTransition, match=f"^{message}$"):
        moderator_move(current, action)


def test_unknown_action():
    with pytest.raises(UnknownAction, match="unknown action 'publish'"):
        moderator_move("held", "publish")
    assert issubclass(UnknownAction, IllegalTransition)
    assert issubclass(IllegalTransition, ValueError)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_needs_unpublish(source, target):
    assert needs_unpublish(source, target) is (source == "published" and target != "published")


@pytest.mark.parametrize(
    ("source", "target", "events"),
    [
        (None, "received", ["comment.received"]),
        ("received", "checking", []),
        ("checking", "received", []),  # re-queued after a lost lease: already announced
        ("checking", "approved", []),
        ("approved", "published", ["comment.published"]),
        ("checking", "held", ["comment.held"]),
        ("checking", "spam", ["comment.spam"]),
        ("checking", "discarded", ["comment.discarded"]),
        ("held", "checking", []),
        ("held", "rejected", ["comment.rejected"]),
        ("published", "spam", ["comment.unpublished", "comment.spam"]),
        ("published", "rejected", ["comment.unpublished", "comment.rejected"]),
        ("spam", "approved", []),
        ("held", "erased", ["comment.erased"]),
        ("published", "erased", ["comment.unpublished", "comment.erased"]),
    ],
)
def test_events_for(source, target, events):
    assert events_for(source, target) == events


def test_event_names_follow_the_contract():
    assert set(EVENT_FOR_STATUS.values()) | {UNPUBLISHED_EVENT} == {
        "comment.received",
        "comment.held",
        "comment.spam",
        "comment.discarded",
        "comment.published",
        "comment.unpublished",
        "comment.rejected",
        "comment.erased",
    }


@pytest.mark.parametrize(
    ("action", "verdict", "feedback"),
    [
        ("approve", "spam", "ham"),
        ("approve", "discard", "ham"),
        ("approve", "ham", None),
        ("approve", "error", None),
        ("approve", "skipped", None),
        ("approve", None, None),
        ("spam", "ham", "spam"),
        ("spam", "spam", None),
        ("spam", "error", None),
        ("spam", "skipped", None),
        ("spam", None, None),
        ("reject", "ham", None),
        ("reject", "spam", None),
    ],
)
def test_akismet_feedback(action, verdict, feedback):
    assert akismet_feedback(action, verdict) == feedback
