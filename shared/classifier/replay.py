"""``parley evaluate``: a labelled file lived through as a site would live it.

The rows are shuffled with a seed. The first ``train_first`` are decided by "moderators"
in order: each becomes a labelled example, and the classifier is (re)trained exactly
when beat would train it live (:func:`shared.classifier.model.should_train`). The rest are
judged by the real rules (the default lists, a first-time author, no form token) and
the last model, with Akismet skipped, and counted. Nothing touches a database or Redis.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from shared.classifier.dataset import Row
from shared.classifier.features import DEFAULT_PARAMS, Doc, Featurizer
from shared.classifier.model import DEFAULT_LEARNER, Model, should_train, train_matrix
from shared.moderation.policy import decide
from shared.moderation.rules import CommentFacts, RuleContext, Signal, evaluate


@dataclass(frozen=True)
class Options:
    """How to replay: the split, the classifier's mode and schedule, the thresholds."""

    train_first: int = 1000
    seed: int = 1
    mode: str = "on"  # PARLEY_CLASSIFIER: on | trial | off
    min_examples: int = 10
    retrain_every: int = 20
    learner: str = DEFAULT_LEARNER
    hold_threshold: float = 1.0
    spam_threshold: float = 3.0


@dataclass
class Tally:
    """What the judged rows came to."""

    statuses: dict[str, dict[str, int]] = field(default_factory=lambda: {"ham": {}, "spam": {}})
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    scores: list[float] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def count(self, label: int, status: str, signals: list[Signal], sole: set[str]) -> None:
        kind = "spam" if label else "ham"
        self.statuses[kind][status] = self.statuses[kind].get(status, 0) + 1
        for rule in dict.fromkeys(s.rule for s in signals):
            row = self.rules.setdefault(
                rule, {"ham_fired": 0, "spam_fired": 0, "ham_sole_cause": 0}
            )
            row[f"{kind}_fired"] += 1
        for rule in sole:
            self.rules[rule]["ham_sole_cause"] += 1


def sole_causes(signals: list[Signal], status: str, options: Options) -> set[str]:
    """The rules without whose signals a held or spam comment would have been published."""
    if status not in ("held", "spam"):
        return set()
    found = set()
    for rule in dict.fromkeys(s.rule for s in signals if not s.trial):
        rest = [s for s in signals if s.rule != rule]
        if judge_status(rest, options) == "published":
            found.add(rule)
    return found


def judge_status(signals: list[Signal], options: Options) -> str:
    return decide(signals, "skipped", options.hold_threshold, options.spam_threshold).status


def learn(
    train: Sequence[Row], options: Options, progress: Callable[[str], None] | None = None
) -> tuple[Model | None, int]:
    """The model after the moderators' first rows, retrained as beat would; and how many
    times it was trained."""
    if options.mode == "off" or not train:
        return None, 0
    featurizer = Featurizer(DEFAULT_PARAMS)
    X = featurizer.transform([Doc(r.text, r.author_name, r.author_url) for r in train])
    labels = np.array([r.label for r in train], dtype=np.int8)
    model, trainings, changed, n_spam = None, 0, 0, 0
    for i, row in enumerate(train, 1):
        n_spam += row.label
        changed += 1
        if should_train(
            i - n_spam,
            n_spam,
            changed,
            model is not None,
            options.min_examples,
            options.retrain_every,
        ):
            model = train_matrix(X[:i], labels[:i], DEFAULT_PARAMS, options.learner)
            trainings += 1
            model.version = trainings
            changed = 0
            if progress and trainings % 10 == 0:
                progress(f"trained {trainings} times ({i} of {len(train)} labels)")
    return model, trainings


def judge(rows: Sequence[Row], model: Model | None, options: Options, tally: Tally) -> None:
    """Judge each row as the pipeline would (Akismet skipped) and count it."""
    base = RuleContext.defaults()
    trial = options.mode == "trial"
    for row in rows:
        facts = CommentFacts(
            content=row.text,
            author_name=row.author_name,
            author_email=row.author_email,
            author_url=row.author_url,
        )
        ctx = base
        if model is not None:
            started = time.perf_counter()
            verdict = model.judge(Doc(row.text, row.author_name, row.author_url), trial)
            tally.seconds.append(time.perf_counter() - started)
            tally.probabilities.append(verdict.probability)
            ctx = replace(base, classifier=verdict)
        signals = evaluate(facts, ctx)
        decision = decide(signals, "skipped", options.hold_threshold, options.spam_threshold)
        tally.scores.append(decision.score)
        tally.labels.append(row.label)
        sole = sole_causes(signals, decision.status, options) if row.label == 0 else set()
        tally.count(row.label, decision.status, signals, sole)


def _fraction(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _auc(labels: list[int], scores: list[float]) -> float | None:
    if len(set(labels)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores)), 4)


def replay(
    rows: Sequence[Row], options: Options, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The report of ``parley evaluate`` (docs/contract.md §8) for labelled ``rows``."""
    shuffled = list(rows)
    random.Random(options.seed).shuffle(shuffled)
    train, test = shuffled[: options.train_first], shuffled[options.train_first :]
    started = time.perf_counter()
    model, trainings = learn(train, options, progress)
    learned = time.perf_counter() - started
    if progress:
        progress(f"judging {len(test)} rows")
    tally = Tally()
    judge(test, model, options, tally)
    ham, spam = tally.statuses["ham"], tally.statuses["spam"]
    n_ham, n_spam = sum(ham.values()), sum(spam.values())
    return {
        "n_train": len(train),
        "n_test": len(test),
        "n_test_ham": n_ham,
        "n_test_spam": n_spam,
        "spam_caught": _fraction(spam.get("held", 0) + spam.get("spam", 0), n_spam),
        "spam_to_spam": _fraction(spam.get("spam", 0), n_spam),
        "ham_to_spam": _fraction(ham.get("spam", 0), n_ham),
        "ham_to_held": _fraction(ham.get("held", 0), n_ham),
        "auc": _auc(tally.labels, tally.scores),
        "statuses": tally.statuses,
        "rules": dict(sorted(tally.rules.items())),
        "classifier": {
            "mode": options.mode,
            "learner": options.learner,
            "trained": trainings,
            "examples": {"ham": model.n_ham, "spam": model.n_spam} if model else None,
            "min_examples": options.min_examples,
            "retrain_every": options.retrain_every,
            "auc": _auc(tally.labels, tally.probabilities) if model else None,
            "learning_seconds": round(learned, 2),
            "median_judge_ms": (
                round(statistics.median(tally.seconds) * 1000, 3) if tally.seconds else None
            ),
        },
        "seed": options.seed,
        "train_first": options.train_first,
    }
