"""Trial mode: rules and list entries that are on, on trial, or off (docs/contract.md §4).

An admin may set any rule (the classifier included), and any list entry, to

* ``on``: evaluated, and counted toward the decision (the default);
* ``trial``: evaluated and shown in the reasons marked ``"trial": true``, never counted:
  the Quality page measures what it would have changed (shared.moderation.quality);
* ``off``: not evaluated (an entry that is off is not even loaded).

and may give a rule a weight other than its default (:data:`shared.moderation.rules.WEIGHTS`).

A trial signal's score is what its rule would score in total with the trial switched on,
so that the decision it would have made is the recorded score, less the rule's counted
signals, plus the trial signal's score. A list entry on trial is judged by running the
rules that read its list twice, without it and with it; where a rule's signals differ,
the "with" signals become one trial signal that names the entry (``entry``): a score of
0 then says that the entry would have made the rule fall silent (an allowed domain whose
links then no longer count).

Pure: no I/O. The signals are :class:`shared.moderation.rules.Signal` (named under
TYPE_CHECKING only: rules imports this module).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.moderation.rules import CommentFacts, Rule, RuleContext, Signal

MODES = ("on", "trial", "off")
WEIGHT_RANGE = (-100.0, 100.0)

# List kind -> the rule functions that read it (by name): a trial entry reruns only these.
READS: dict[str, frozenset[str]] = {
    "block_word": frozenset({"rule_block_word"}),
    "hold_word": frozenset({"rule_hold_word"}),
    "blocked_email": frozenset({"rule_blocked_email"}),
    "blocked_ip": frozenset({"rule_blocked_ip"}),
    "blocked_domain": frozenset({"rule_blocked_domain", "rule_links", "rule_name_is_url"}),
    "trusted_author": frozenset({"rule_author_history"}),
    "shortener": frozenset(
        {"rule_shortener", "rule_blocked_domain", "rule_links", "rule_name_is_url"}
    ),
    "disposable_domain": frozenset({"rule_disposable_email"}),
    "allowed_domain": frozenset({"rule_links"}),
}


@dataclass(frozen=True)
class RuleMode:
    """An admin's setting for one rule: its mode, and a weight (None: the default)."""

    mode: str = "on"
    weight: float | None = None


def valid_mode(mode: object) -> bool:
    return isinstance(mode, str) and mode in MODES


def valid_weight(weight: object) -> bool:
    """A weight an admin may set: a finite number within :data:`WEIGHT_RANGE`."""
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        return False
    low, high = WEIGHT_RANGE
    return math.isfinite(weight) and low <= weight <= high


def weighted(score: float, default: float | None, weight: float | None) -> float:
    """``score`` under ``weight`` instead of the rule's ``default`` weight.

    A fixed-weight rule scores its weight; a rule whose score grows with its evidence
    (duplicate_text) is scaled by weight / default.
    """
    if weight is None:
        return score
    if not default:
        return round(weight, 4)
    return round(score * weight / default, 4)


def apply(
    signals: Iterable[Signal],
    modes: Mapping[str, RuleMode],
    defaults: Mapping[str, float],
) -> list[Signal]:
    """The signals as the rules' modes and weights make them: off dropped, trial marked,
    weights applied (``defaults``: each rule's default weight)."""
    out = []
    for signal in signals:
        setting = modes.get(signal.rule)
        mode = setting.mode if setting else "on"
        if mode == "off":
            continue
        if setting is not None and setting.weight is not None:
            # A rule without a default weight (the classifier, whose score is its band's)
            # is scaled as if its default were 1.
            score = weighted(signal.score, defaults.get(signal.rule, 1.0), setting.weight)
            signal = replace(signal, score=score)
        if mode == "trial" and not signal.trial:
            signal = replace(signal, trial=True)
        out.append(signal)
    return out


Runner = Callable[["CommentFacts", "RuleContext", Sequence["Rule"]], list["Signal"]]


def entry_trials(
    facts: CommentFacts,
    ctx: RuleContext,
    rules: Sequence[Rule],
    run: Runner,
    fields: Mapping[str, str],
) -> list[Signal]:
    """The trial signals of ``ctx.trial_lists``' entries, one per entry and rule it would
    change (see the module docstring)."""
    out: list[Signal] = []
    for kind in sorted(ctx.trial_lists):
        chosen = [rule for rule in rules if rule.__name__ in READS.get(kind, ())]
        if not chosen or kind not in fields:
            continue
        base = run(facts, ctx, chosen)
        name = fields[kind]
        for value in sorted(ctx.trial_lists[kind]):
            widened = replace(ctx, **{name: getattr(ctx, name) | {value}})
            out += _differences(base, run(facts, widened, chosen), (kind, value))
    return out


def _differences(base: list[Signal], widened: list[Signal], entry: tuple[str, str]) -> list[Signal]:
    kind, value = entry
    found = []
    for rule in dict.fromkeys(s.rule for s in (*base, *widened)):
        before = [s for s in base if s.rule == rule]
        after = [s for s in widened if s.rule == rule]
        if before == after:
            continue
        if after:
            detail = "; ".join(s.detail for s in after)
        else:
            label = kind.replace("_", " ")
            detail = f'would not fire with the {label} "{value}" on'
        template = (after or before)[0]
        score = round(sum(s.score for s in after), 4)
        found.append(replace(template, score=score, detail=detail, trial=True, entry=entry))
    return found


def reason_entry(reason: Mapping[str, Any]) -> tuple[str, str] | None:
    """The ``(kind, value)`` a stored reason's trial names, if it names one."""
    entry = reason.get("entry")
    if isinstance(entry, Mapping) and "kind" in entry and "value" in entry:
        return str(entry["kind"]), str(entry["value"])
    return None
