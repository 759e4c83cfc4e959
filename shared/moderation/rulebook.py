"""The rules an admin can set to on, trial or off, with a weight (docs/contract.md §4).

A rule is a name that signals carry in a comment's reasons (``links``, ``block_word``,
``form_too_fast``, …) and ``classifier``, the learned classifier. Each change is audited
in the caller's unit of work; the workers' PolicyCache (shared.moderation.context)
rereads the settings within seconds. A rule without a stored row is on at its default
weight, except the classifier, whose mode without a row is ``PARLEY_CLASSIFIER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts import audit
from shared.config import Settings
from shared.models import RuleSetting, utcnow
from shared.moderation.modes import MODES, WEIGHT_RANGE, valid_mode, valid_weight
from shared.moderation.rules import WEIGHTS

# Parameters of a rule's scoring, not rules of their own.
_PARAMETERS = frozenset({"duplicate_text_each_more", "duplicate_text_max"})
CLASSIFIER = "classifier"
# The classifier's score is its band's (shared.classifier.verdict); a weight scales it.
CLASSIFIER_WEIGHT = 1.0


def rule_names() -> tuple[str, ...]:
    """Every rule an admin can set, in the order of :data:`WEIGHTS`, the classifier last."""
    names = [name for name in WEIGHTS if name not in _PARAMETERS and name != CLASSIFIER]
    return (*names, CLASSIFIER)


def default_weights() -> dict[str, float]:
    """Each rule's default weight (the classifier's is a multiplier of its band score)."""
    weights = {name: WEIGHTS[name] for name in rule_names() if name in WEIGHTS}
    weights.setdefault(CLASSIFIER, CLASSIFIER_WEIGHT)
    return weights


class UnknownRule(LookupError):
    """No rule has that name (the admin API answers 404)."""


class RuleChangeError(ValueError):
    """A mode or weight that cannot be saved; ``field`` names the bad field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RuleRow:
    """One rule as the admin sees it: mode and weight in force, and who set them."""

    rule: str
    mode: str
    weight: float
    default_weight: float
    default_mode: str
    updated_by: str | None = None
    updated_at: datetime | None = None

    def as_json(self) -> dict:
        return {"rule": self.rule, "mode": self.mode, "weight": self.weight}


def _default_mode(settings: Settings, rule: str) -> str:
    return getattr(settings, "classifier", "on") if rule == CLASSIFIER else "on"


def rule_rows(session: Session, settings: Settings) -> list[RuleRow]:
    """Every rule with its mode and weight in force."""
    stored = {row.rule: row for row in session.scalars(select(RuleSetting))}
    weights = default_weights()
    rows = []
    for rule in rule_names():
        row = stored.get(rule)
        default_mode = _default_mode(settings, rule)
        weight = row.weight if row is not None and row.weight is not None else weights[rule]
        rows.append(
            RuleRow(
                rule,
                row.mode if row is not None else default_mode,
                weight,
                weights[rule],
                default_mode,
                row.updated_by if row is not None else None,
                row.updated_at if row is not None else None,
            )
        )
    return rows


def parse_weight(raw: object) -> float | None:
    """A weight from a form or JSON: None for "" or null (the default), else a number in
    range, or :class:`RuleChangeError`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = raw
    if isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise RuleChangeError("weight", "must be a number") from None
    if not valid_weight(value):
        low, high = WEIGHT_RANGE
        raise RuleChangeError("weight", f"must be a number between {low:g} and {high:g}")
    return float(value)  # type: ignore[arg-type]


_KEEP = object()


def set_rule(
    session: Session,
    settings: Settings,
    rule: str,
    mode: str,
    actor: str,
    weight: object = _KEEP,
) -> RuleRow:
    """Set one rule's mode, and its weight unless ``weight`` is left out (None or "":
    back to the default). Audited as ``rule.set``; a rule set back to its defaults loses
    its row. Raises :class:`UnknownRule` or :class:`RuleChangeError`."""
    if rule not in rule_names():
        raise UnknownRule(rule)
    if not valid_mode(mode):
        raise RuleChangeError("mode", f"must be one of {', '.join(MODES)}")
    row = session.get(RuleSetting, rule)
    old = {"mode": row.mode if row else _default_mode(settings, rule), "weight": None}
    if row is not None:
        old["weight"] = row.weight
    new_weight = old["weight"] if weight is _KEEP else parse_weight(weight)
    if new_weight == default_weights()[rule]:
        new_weight = None
    if mode == _default_mode(settings, rule) and new_weight is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            RuleSetting(
                rule=rule, mode=mode, weight=new_weight, updated_at=utcnow(), updated_by=actor
            )
        )
    else:
        row.mode, row.weight, row.updated_at, row.updated_by = mode, new_weight, utcnow(), actor
    if old != {"mode": mode, "weight": new_weight}:
        audit(session, actor, "rule.set", rule, old=old, new={"mode": mode, "weight": new_weight})
    session.flush()
    return next(r for r in rule_rows(session, settings) if r.rule == rule)
