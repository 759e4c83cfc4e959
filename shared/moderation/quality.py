"""How well each rule and the classifier judge, measured against the moderators' decisions
(docs/contract.md §4, ``GET /api/v1/admin/quality`` and the dashboard's Quality page).

**The moderators' label of a comment** is their last action on it in ``comment_history``
(a later action reverses an earlier one):

* ``approve`` → ham;
* ``spam`` → spam;
* ``reject`` of a comment that was in spam → spam (the moderator confirmed the verdict
  and removed the comment);
* ``reject`` of a held or published comment → no label: a rejection says the comment is
  not to be shown (off-topic, abusive), not that it is spam;
* no action → no label (a comment nobody reviewed tells nothing about the rules).

**Per rule**, over the labelled comments whose stored reasons hold the rule:

* ``fired``: how many;
* ``agreed``: the rule pushed toward spam (score > 0) and the label is spam, or it pushed
  toward publication (score < 0) and the label is ham;
* ``overridden``: the other way round;
* ``precision`` = agreed / fired (null while it never fired).

**Rules and list entries on trial** (their reasons carry ``"trial": true``) get rows of
their own, with the same counts (direction: the trial signal's score, or, for a trial
that would silence its rule, the opposite of the silenced score) and what they would
have changed: ``would_flip``, the labelled decisions that the policy
(:func:`shared.moderation.policy.decide`, with the comment's own Akismet verdict and the
thresholds in force) would have made otherwise had the trial counted; ``flips_agreed``,
those flips that went the moderators' way (toward spam for spam, toward publication for
ham); and ``unreviewed``, the same two counts over comments no moderator labelled.

The counts are aggregate SQL over the JSON of ``comments.reasons`` (SQLite's
``json_each``, PostgreSQL's ``json_array_elements``); only the comments that hold a trial
reason are read into Python, to replay the policy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, inspect, select, text
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.models import Comment, SettingOverride
from shared.moderation.context import effective
from shared.moderation.modes import reason_entry
from shared.moderation.policy import PREMODERATION, decide, total_score
from shared.moderation.rulebook import rule_rows
from shared.moderation.rules import Signal

# The last moderator action of each comment, and the label it gives (None: no label).
_LABELS = """
WITH last AS (
    SELECT comment_id, MAX(id) AS id FROM comment_history
    WHERE action IN ('approve', 'spam', 'reject') GROUP BY comment_id
), labelled AS (
    SELECT h.comment_id AS cid,
        CASE WHEN h.action = 'approve' THEN 'ham'
             WHEN h.action = 'spam' THEN 'spam'
             WHEN h.action = 'reject' AND h.from_status = 'spam' THEN 'spam' END AS label
    FROM comment_history h JOIN last ON h.id = last.id
)
"""

# Per dialect: the reasons as rows (alias r), and a reason's rule, score and trial flag.
_DIALECTS = {
    "sqlite": {
        "each": "json_each(c.reasons) AS r",
        "array": "json_type(c.reasons) = 'array'",
        "rule": "json_extract(r.value, '$.rule')",
        "score": "CAST(json_extract(r.value, '$.score') AS REAL)",
        "trial": "COALESCE(json_extract(r.value, '$.trial'), 0) = 1",
    },
    "postgresql": {
        "each": "json_array_elements(c.reasons) AS r(value)",
        "array": "json_typeof(c.reasons) = 'array'",
        "rule": "r.value ->> 'rule'",
        "score": "CAST(r.value ->> 'score' AS DOUBLE PRECISION)",
        "trial": "COALESCE(r.value ->> 'trial', 'false') = 'true'",
    },
}

_PER_RULE = """
SELECT {rule} AS rule,
    COUNT(*) AS fired,
    SUM(CASE WHEN ({score} > 0 AND l.label = 'spam') OR ({score} < 0 AND l.label = 'ham')
        THEN 1 ELSE 0 END) AS agreed,
    SUM(CASE WHEN ({score} > 0 AND l.label = 'ham') OR ({score} < 0 AND l.label = 'spam')
        THEN 1 ELSE 0 END) AS overridden
FROM labelled l JOIN comments c ON c.id = l.cid, {each}
WHERE l.label IS NOT NULL AND {array} AND NOT ({trial})
GROUP BY {rule}
"""

_TOTALS = "SELECT label, COUNT(*) FROM labelled WHERE label IS NOT NULL GROUP BY label"

# Comments holding at least one trial reason, with their label if any.
_WITH_TRIALS = """
SELECT c.id, l.label, c.reasons, c.akismet FROM comments c
LEFT JOIN labelled l ON l.cid = c.id
WHERE c.decided_at IS NOT NULL AND {array}
  AND EXISTS (SELECT 1 FROM {each} WHERE {trial})
"""

_SEVERITY = {"published": 0, "held": 1, "spam": 2, "discarded": 2}


def _sql(session: Session, template: str) -> str:
    parts = _DIALECTS.get(session.get_bind().dialect.name, _DIALECTS["sqlite"])
    return _LABELS + template.format(**parts)


def _precision(agreed: int, fired: int) -> float | None:
    return round(agreed / fired, 3) if fired else None


@dataclass
class TrialRow:
    """What one rule or list entry on trial did and would have done."""

    rule: str
    entry: tuple[str, str] | None
    fired: int = 0
    agreed: int = 0
    overridden: int = 0
    would_flip: int = 0
    flips_agreed: int = 0
    unreviewed: dict[str, int] = field(default_factory=lambda: {"fired": 0, "would_flip": 0})

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "rule": self.rule,
            "trial": True,
            "fired": self.fired,
            "agreed": self.agreed,
            "overridden": self.overridden,
            "precision": _precision(self.agreed, self.fired),
            "would_flip": self.would_flip,
            "flips_agreed": self.flips_agreed,
            "unreviewed": self.unreviewed,
        }
        if self.entry is not None:
            body["entry"] = {"kind": self.entry[0], "value": self.entry[1]}
        return body


def _signals(reasons: list[Mapping[str, Any]]) -> list[Signal]:
    return [
        Signal(str(r.get("rule")), float(r.get("score") or 0), str(r.get("detail") or ""))
        for r in reasons
        if isinstance(r, Mapping) and not r.get("trial")
    ]


class _Replay:
    """The policy's decision for a set of signals, as :func:`decide` makes it. It depends
    only on Akismet's verdict, a honeypot and the counted score, so each distinct case is
    decided once: thousands of trial reasons cost a few dozen calls."""

    def __init__(self, thresholds: Mapping[str, float]):
        self.hold, self.spam = thresholds["hold_threshold"], thresholds["spam_threshold"]
        self._seen: dict[tuple, str] = {}

    def status(self, signals: list[Signal], verdict: str) -> str:
        if verdict not in ("ham", "spam", "discard", "error", "skipped"):
            verdict = "skipped"
        key = (verdict, any(s.rule == "honeypot" for s in signals), total_score(signals))
        if key not in self._seen:
            self._seen[key] = decide(signals, verdict, self.hold, self.spam).status
        return self._seen[key]

    def count(self, row, trials: dict) -> None:
        """Count one comment's trial reasons into ``trials`` (keyed by rule and entry)."""
        _, label, reasons, akismet = row
        reasons = [r for r in (reasons or []) if isinstance(r, Mapping)]
        counted = _signals(reasons)
        verdict = str((akismet if isinstance(akismet, Mapping) else {}).get("verdict"))
        actual = self.status(counted, verdict)
        for reason in reasons:
            if reason.get("trial"):
                _count_trial(trials, reason, label, counted, actual, self.status, verdict)


def _count_trial(trials, reason, label, counted, actual, status, verdict) -> None:
    rule, entry = str(reason.get("rule")), reason_entry(reason)
    score = float(reason.get("score") or 0)
    silenced = sum(s.score for s in counted if s.rule == rule)
    direction = score if score else -silenced
    others = [s for s in counted if s.rule != rule]
    flip = _SEVERITY[status([*others, Signal(rule, score, "")], verdict)] - _SEVERITY[actual]
    item = trials.setdefault((rule, entry), TrialRow(rule, entry))
    if label is None:
        item.unreviewed["fired"] += 1
        item.unreviewed["would_flip"] += flip != 0
        return
    item.fired += 1
    spammy = label == "spam"
    if direction:
        if (direction > 0) == spammy:
            item.agreed += 1
        else:
            item.overridden += 1
    if flip:
        item.would_flip += 1
        item.flips_agreed += (flip > 0) == spammy


def rules_quality(
    session: Session, rules: list[str], modes: Mapping[str, str], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """The ``rules`` part of the quality answer, and the labelled totals."""
    counts = {
        rule: (fired, agreed or 0, overridden or 0)
        for rule, fired, agreed, overridden in session.execute(text(_sql(session, _PER_RULE)))
    }
    rows = []
    # The article's pre-moderation is a reason, not a rule: it weighs nothing and judges
    # nothing, so it has no precision to measure.
    others = set(counts) - set(rules) - {PREMODERATION}
    for rule in [*rules, *sorted(others)]:
        fired, agreed, overridden = counts.get(rule, (0, 0, 0))
        rows.append(
            {
                "rule": rule,
                "mode": modes.get(rule, "on"),
                "fired": fired,
                "agreed": agreed,
                "overridden": overridden,
                "precision": _precision(agreed, fired),
            }
        )
    trials: dict = {}
    typed = text(_sql(session, _WITH_TRIALS)).columns(
        id=String, label=String, reasons=Comment.reasons.type, akismet=Comment.akismet.type
    )
    replay = _Replay(thresholds)
    for row in session.execute(typed):
        replay.count(row, trials)
    order = sorted(trials.values(), key=lambda t: (t.rule, t.entry or ("", "")))
    totals = dict(session.execute(text(_sql(session, _TOTALS))).all())
    return {
        "labelled": {"ham": totals.get("ham", 0), "spam": totals.get("spam", 0)},
        "rules": rows + [t.as_json() for t in order],
    }


def classifier_quality(session: Session) -> dict[str, Any]:
    """The current model of the classifier: version, when trained, its examples by class,
    its metrics and learning curve; nulls and zeros before the first model."""
    empty: dict[str, Any] = {
        "version": None,
        "trained_at": None,
        "examples": {"ham": 0, "spam": 0},
        "metrics": {},
        "learning_curve": [],
    }
    if not inspect(session.get_bind()).has_table("classifier_models"):
        return empty
    row = (
        session.execute(
            text(
                "SELECT version, trained_at, n_ham, n_spam, metrics FROM classifier_models "
                "ORDER BY version DESC LIMIT 1"
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return empty
    metrics = row["metrics"]
    if isinstance(metrics, str):
        metrics = json.loads(metrics)
    metrics = metrics if isinstance(metrics, dict) else {}
    trained_at = row["trained_at"]
    return {
        "version": row["version"],
        "trained_at": trained_at.isoformat() if hasattr(trained_at, "isoformat") else trained_at,
        "examples": {"ham": row["n_ham"] or 0, "spam": row["n_spam"] or 0},
        "metrics": {k: v for k, v in metrics.items() if k != "learning_curve"},
        "learning_curve": list(metrics.get("learning_curve") or []),
    }


def quality(session: Session, settings: Settings) -> dict[str, Any]:
    """The whole quality answer: labelled totals, every rule (trials too), the classifier."""
    overrides = dict(session.execute(select(SettingOverride.key, SettingOverride.value)).all())
    rules = rule_rows(session, settings)
    body = rules_quality(
        session,
        [r.rule for r in rules],
        {r.rule: r.mode for r in rules},
        effective(settings, overrides),
    )
    body["classifier"] = classifier_quality(session)
    return body
