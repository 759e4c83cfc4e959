"""What the classifier said about one comment, and what that weighs in the policy.

Pure and light (no numpy): the ``classifier`` rule of :mod:`shared.moderation.rules`
turns a :class:`Verdict` into a signal with :func:`weigh`. With the default thresholds
(hold 1.0, spam 3.0) the bands mean:

- probability ≥ :data:`SPAM_BAND` (0.9): score 3.0, spam on the classifier's word alone;
- ≥ :data:`HOLD_BAND` (0.4): score 1.0, held for a moderator. The classes are weighed
  equally in training, so this says the comment is at least two thirds as likely under
  spam as under ham, whatever share of spam the site gets; a hold costs a moderator's
  glance, so the band leans toward holding (SMS, three seeds: 90–94 % of spam caught for
  at most 0.6 % of ham held; at 0.5, 89–91 % for 0.3 %);
- ≤ :data:`HAM_BAND` (0.1): score -0.5, a confident ham's counter to soft heuristic
  signs: one sign of 1.0 or less (two links, a watched word, shouting) no longer holds
  alone, two still do; a block word (3.0) is held rather than spam; a blocked e-mail, IP
  or domain, or a sign of 1.5 (link markup, look-alike letters), is not outweighed.
  Akismet's spam stays final and an Akismet error still holds (the policy's order,
  :mod:`shared.moderation.policy`): nothing the classifier says publishes either.

Between 0.1 and 0.4 the classifier is unsure and says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

SPAM_BAND = 0.9
HOLD_BAND = 0.4
HAM_BAND = 0.1
SPAM_SCORE = 3.0
HOLD_SCORE = 1.0
HAM_SCORE = -0.5


@dataclass(frozen=True)
class Verdict:
    """The spam probability of one comment under model ``version``, the words that pushed
    it each way (strongest first), and whether the classifier is only on trial."""

    probability: float
    version: int
    toward_spam: tuple[str, ...] = ()
    toward_ham: tuple[str, ...] = ()
    trial: bool = False


def band(probability: float) -> str | None:
    """``"spam"``, ``"hold"``, ``"ham"`` or None (unsure) for a spam probability."""
    if probability >= SPAM_BAND:
        return "spam"
    if probability >= HOLD_BAND:
        return "hold"
    if probability <= HAM_BAND:
        return "ham"
    return None


def _quoted(words: tuple[str, ...]) -> str:
    return ", ".join(f'"{word}"' for word in words)


def explanation(verdict: Verdict) -> str:
    """The reason a moderator reads: the probability and the words behind it."""
    head = f"spam probability {verdict.probability:.2f} (model v{verdict.version})"
    parts = []
    spammy = band(verdict.probability) in ("spam", "hold")
    if verdict.toward_spam and spammy:
        parts.append(f"{_quoted(verdict.toward_spam)} pushed toward spam")
    if verdict.toward_ham:
        parts.append(f"{_quoted(verdict.toward_ham)} {'' if parts else 'pushed '}toward ham")
    return head + (": " + "; ".join(parts) if parts else "")


def weigh(verdict: Verdict) -> tuple[float, str] | None:
    """The score and the detail of the ``classifier`` signal, or None when unsure."""
    scores = {"spam": SPAM_SCORE, "hold": HOLD_SCORE, "ham": HAM_SCORE}
    which = band(verdict.probability)
    if which is None:
        return None
    return scores[which], explanation(verdict)
