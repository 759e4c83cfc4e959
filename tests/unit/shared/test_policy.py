"""The decision table: Akismet's verdict × the heuristic score bands."""

from __future__ import annotations

import pytest

from shared.moderation.policy import (
    AKISMET_VERDICTS,
    Decision,
    decide,
    heuristic_precheck,
    total_score,
)
from shared.moderation.rules import Signal

HOLD, SPAM = 1.0, 3.0

BANDS = {
    "clean": [],
    "trusted": [Signal("trusted_author", -3.0, "trusted")],
    "low": [Signal("shouting", 0.5, "caps")],
    "hold": [Signal("links", 1.0, "3 links"), Signal("form_too_fast", 1.5, "fast")],
    "spam": [Signal("duplicate_text", 3.0, "posted 5 times")],
    "listed": [Signal("blocked_ip", 5.0, "blocked IP")],
}

# verdict -> band -> status
TABLE = {
    "ham": {
        "clean": "published",
        "trusted": "published",
        "low": "published",
        "hold": "held",
        "spam": "spam",
        "listed": "spam",
    },
    "skipped": {
        "clean": "published",
        "trusted": "published",
        "low": "published",
        "hold": "held",
        "spam": "spam",
        "listed": "spam",
    },
    "spam": dict.fromkeys(BANDS, "spam"),
    "discard": dict.fromkeys(BANDS, "discarded"),
    "error": {
        "clean": "held",
        "trusted": "held",
        "low": "held",
        "hold": "held",
        "spam": "spam",
        "listed": "spam",
    },
}


@pytest.mark.parametrize("verdict", AKISMET_VERDICTS)
@pytest.mark.parametrize("band", BANDS)
def test_decision_table(verdict, band):
    signals = BANDS[band]
    d = decide(signals, verdict, HOLD, SPAM)
    assert isinstance(d, Decision)
    assert d.status == TABLE[verdict][band]
    assert d.score == total_score(signals)
    assert d.reasons == [s.as_dict() for s in signals]
    assert d.summary.startswith(d.status.capitalize() + ":")


@pytest.mark.parametrize("verdict", AKISMET_VERDICTS)
def test_honeypot_discards_whatever_akismet_says(verdict):
    signals = [Signal("honeypot", 10.0, "filled"), Signal("trusted_author", -3.0, "trusted")]
    d = decide(signals, verdict, HOLD, SPAM)
    assert d.status == "discarded"
    assert d.summary == "Discarded: honeypot field filled"


def test_summaries_explain_the_decision():
    hold = BANDS["hold"]
    assert decide(hold, "ham", HOLD, SPAM).summary == (
        "Held: score 2.5 ≥ hold threshold 1.0 (links, form_too_fast); Akismet says ham"
    )
    assert decide([], "skipped", HOLD, SPAM).summary == (
        "Published: score 0.0 < hold threshold 1.0; Akismet not consulted"
    )
    assert decide(BANDS["spam"], "ham", HOLD, SPAM).summary == (
        "Spam: score 3.0 ≥ spam threshold 3.0 (duplicate_text); Akismet says ham"
    )
    assert decide([], "spam", HOLD, SPAM).summary == "Spam: Akismet says spam"
    assert decide([], "discard", HOLD, SPAM).summary == (
        "Discarded: Akismet says blatant spam (discard)"
    )
    assert decide([], "error", HOLD, SPAM, akismet_detail="timeout").summary == (
        "Held: Akismet could not be reached (timeout); will be rechecked"
    )
    assert decide(hold, "error", HOLD, SPAM).summary == (
        "Held: Akismet could not be reached; will be rechecked; "
        "heuristics also hold it: score 2.5 ≥ hold threshold 1.0 (links, form_too_fast)"
    )
    assert decide(BANDS["listed"], "error", HOLD, SPAM, akismet_detail="HTTP 503").summary == (
        "Spam: score 5.0 ≥ spam threshold 3.0 (blocked_ip); Akismet could not be reached (HTTP 503)"
    )


def test_thresholds_are_inclusive_and_configurable():
    at_hold = [Signal("links", 1.0, "x")]
    assert decide(at_hold, "ham", 1.0, 3.0).status == "held"
    assert decide(at_hold, "ham", 1.5, 3.0).status == "published"
    assert decide(at_hold, "ham", 0.5, 1.0).status == "spam"


def test_score_sum_is_rounded():
    signals = [Signal("a", 0.1, "a"), Signal("b", 0.2, "b"), Signal("c", 0.7, "c")]
    d = decide(signals, "ham", 1.0, 3.0)
    assert d.score == 1.0 and d.status == "held"


def test_unknown_verdict_is_an_error():
    with pytest.raises(ValueError, match="unknown Akismet verdict"):
        decide([], "maybe", HOLD, SPAM)


# --- precheck ---------------------------------------------------------------------------


def test_precheck_discards_honeypot():
    d = heuristic_precheck([Signal("honeypot", 10.0, "filled")], SPAM)
    assert d is not None and d.status == "discarded"


@pytest.mark.parametrize("rule", ["blocked_email", "blocked_ip", "blocked_domain", "block_word"])
def test_precheck_decides_spam_on_moderators_lists(rule):
    signals = [Signal(rule, 5.0 if rule != "block_word" else 3.0, "listed")]
    d = heuristic_precheck(signals, SPAM)
    assert d is not None and d.status == "spam"
    assert d.summary.endswith("on a moderators' list, Akismet not consulted")
    assert d.status == decide(signals, "skipped", HOLD, SPAM).status


@pytest.mark.parametrize(
    "signals",
    [
        [],
        BANDS["hold"],
        BANDS["spam"],  # spam by soft heuristics alone: Akismet may still say discard
        [Signal("block_word", 3.0, "x"), Signal("trusted_author", -3.0, "t")],
        [Signal("blocked_domain", 4.0, "x"), Signal("author_approved_history", -1.5, "a")],
    ],
)
def test_precheck_leaves_the_rest_to_akismet(signals):
    assert heuristic_precheck(signals, SPAM) is None
