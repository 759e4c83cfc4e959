"""From signals and Akismet's verdict to one decision, with a sentence saying why.

The order matters and is the whole policy:

1. a filled honeypot is a bot: discarded;
2. Akismet's "discard" tip (blatant spam): discarded;
3. Akismet's "spam": spam;
4. Akismet unreachable ("error"): held for a recheck, never published unchecked, unless
   the heuristics alone already reach the spam threshold;
5. otherwise the heuristic score: spam threshold → spam, hold threshold → held, else
   published. Akismet's "ham" never overrides a heuristic hold: the heuristics see things
   Akismet does not (our lists, links limit, form timing);
6. on an article in pre-moderation (``article_mode="premoderate"``), what step 5 would
   publish is held instead, with the reason ``premoderation`` and step 5's sentence: every
   check still runs, and spam, discards and holds are decided as anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.moderation.rules import LIST_RULES, Signal

AKISMET_VERDICTS = ("ham", "spam", "discard", "error", "skipped")
DECISIONS = ("published", "held", "spam", "discarded")
# An article's moderation modes (shared.articles.MODERATION_MODES): only "premoderate"
# changes a decision; "closed" takes no new comments, and those it had are decided as usual.
ARTICLE_MODES = ("auto", "premoderate", "closed")
PREMODERATION = "premoderation"


@dataclass(frozen=True)
class Decision:
    """The outcome of a check: status, total heuristic score, reasons, and a summary."""

    status: str  # published | held | spam | discarded
    score: float
    reasons: list[dict[str, Any]]
    summary: str


def _num(value: float) -> str:
    text = f"{value:.2f}"
    return text[:-1] if text.endswith("0") else text


def total_score(signals: Iterable[Signal]) -> float:
    """Sum of the signals' scores, rounded so that 0.1 + 0.2 compares as 0.3. Signals on
    trial are shown, never counted (docs/contract.md §4)."""
    return round(sum(s.score for s in signals if not s.trial), 4)


def _rules(signals: Sequence[Signal]) -> str:
    counted = [s.rule for s in signals if not s.trial]
    return f" ({', '.join(dict.fromkeys(counted))})" if counted else ""


def _decision(status: str, signals: Sequence[Signal], summary: str) -> Decision:
    return Decision(status, total_score(signals), [s.as_dict() for s in signals], summary)


def _honeypot(signals: Sequence[Signal]) -> Decision | None:
    if any(s.rule == "honeypot" for s in signals):
        return _decision("discarded", signals, "Discarded: honeypot field filled")
    return None


def _by_score(signals: Sequence[Signal], hold: float, spam: float) -> tuple[str, str]:
    """The score band and the sentence that explains it."""
    score, rules = total_score(signals), _rules(signals)
    if score >= spam:
        return "spam", f"score {_num(score)} ≥ spam threshold {_num(spam)}{rules}"
    if score >= hold:
        return "held", f"score {_num(score)} ≥ hold threshold {_num(hold)}{rules}"
    return "published", f"score {_num(score)} < hold threshold {_num(hold)}{rules}"


def decide(
    signals: Sequence[Signal],
    akismet_verdict: str,
    hold_threshold: float,
    spam_threshold: float,
    *,
    akismet_detail: str | None = None,
    article_mode: str = "auto",
) -> Decision:
    """The decision for a checked comment (see the module docstring for the order).

    ``akismet_detail`` (e.g. "timeout") only enriches the summary of an Akismet error;
    ``article_mode`` is the comment's article's moderation mode.
    """
    if akismet_verdict not in AKISMET_VERDICTS:
        raise ValueError(f"unknown Akismet verdict {akismet_verdict!r}")
    if article_mode not in ARTICLE_MODES:
        raise ValueError(f"unknown article moderation mode {article_mode!r}")
    signals = list(signals)
    if found := _honeypot(signals):
        return found
    if akismet_verdict == "discard":
        return _decision("discarded", signals, "Discarded: Akismet says blatant spam (discard)")
    if akismet_verdict == "spam":
        return _decision("spam", signals, "Spam: Akismet says spam")
    status, why = _by_score(signals, hold_threshold, spam_threshold)
    if akismet_verdict == "error":
        error = f" ({akismet_detail})" if akismet_detail else ""
        if status == "spam":
            return _decision("spam", signals, f"Spam: {why}; Akismet could not be reached{error}")
        summary = f"Held: Akismet could not be reached{error}; will be rechecked"
        if status == "held":
            summary += f"; heuristics also hold it: {why}"
        return _decision("held", signals, summary)
    note = "Akismet says ham" if akismet_verdict == "ham" else "Akismet not consulted"
    if status == "published" and article_mode == "premoderate":
        return _premoderated(signals, f"{why}; {note}")
    return _decision(status, signals, f"{status.capitalize()}: {why}; {note}")


def _premoderated(signals: Sequence[Signal], why: str) -> Decision:
    """Held for a moderator on a pre-moderated article, saying the checks would have
    published it. The reason weighs nothing: it is the article's, not the comment's."""
    decision = _decision(
        "held",
        signals,
        f"Held: the article is pre-moderated, a moderator publishes each comment; "
        f"the checks alone would have published it: {why}",
    )
    reason = {
        "rule": PREMODERATION,
        "score": 0.0,
        "detail": "article is pre-moderated: the checks would have published this comment",
    }
    return Decision(decision.status, decision.score, [*decision.reasons, reason], decision.summary)


def heuristic_precheck(signals: Sequence[Signal], spam_threshold: float) -> Decision | None:
    """A decision that needs no Akismet call, or None when Akismet must be asked.

    Two cases are certain without it: a filled honeypot (discarded), and a score at the spam
    threshold that includes a hit on a moderator's own list (blocked e-mail, IP, domain or
    word): the moderators said so, and asking Akismet would only spend quota and time.
    Spam reached by softer heuristics alone still goes to Akismet, whose "discard" tip may
    make it discarded and whose verdict is kept for the moderators. The caller records the
    Akismet verdict as "skipped" for a precheck decision.
    """
    signals = list(signals)
    if found := _honeypot(signals):
        return found
    listed = any(s.rule in LIST_RULES and not s.trial for s in signals)
    status, why = _by_score(signals, spam_threshold, spam_threshold)
    if listed and status == "spam":
        summary = f"Spam: {why}; on a moderators' list, Akismet not consulted"
        return _decision("spam", signals, summary)
    return None
