"""Which words pushed a verdict: the model's weights on the comment's own features.

A score is ``intercept + Σ weight[column] × value[column]``. Each column's value is its
n-gram's count divided by its block's norm, so every occurrence of an n-gram adds
``weight / norm``. The comment's n-grams, as the featurizer found them (the same pass
that scored it), give each occurrence's share; the shares are then summed per word: a
word gets its unigram, half of each bigram it is in, and (shared equally with the other
words of its chunk) the character n-grams of the whitespace-separated chunk it stands in.
The author block's items are named ``name:<word>`` and ``site:<host>``. The shares add
up to the score less the intercept, which the tests check.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from shared.classifier.features import Doc, Part

if TYPE_CHECKING:
    from shared.classifier.model import Model

_WORD = re.compile(r"(?u)\b\w\w+\b")
MAX_SHOWN = 40  # characters of one named word


@lru_cache(maxsize=50_000)
def _chunk_words(chunk: str) -> tuple[str, ...]:
    """The words a whitespace-separated chunk is credited to (itself if it has none)."""
    return tuple(_WORD.findall(chunk)) or (chunk,)


def _names(kind: str, unit: str) -> tuple[str, ...]:
    """The words a unit of a block of this kind is credited to."""
    if kind == "meta":
        prefix, _, value = unit.partition(":")
        return (("name:" if prefix == "n" else "site:") + value,)
    if kind == "word":
        return tuple(unit.split(" ")) if " " in unit else (unit,)
    return _chunk_words(unit)


def shares(model: Model, doc: Doc, parts: list[Part] | None = None) -> dict[str, float]:
    """Each named word's share of the comment's score (log-odds), summed over its
    occurrences; the intercept is nobody's."""
    parts = parts if parts is not None else model.featurizer.parts(doc)
    totals: dict[str, float] = defaultdict(float)
    for spec, part in zip(model.params["blocks"], parts, strict=True):
        if not len(part.columns):
            continue
        weights = model.coef[part.offset + part.columns].astype(np.float64) / part.norm
        owner = np.repeat(np.arange(len(part.units)), part.sizes)
        per_unit = np.bincount(owner, weights=weights, minlength=len(part.units))
        kind = "meta" if spec["field"] == "meta" else spec["analyzer"]
        units = part.units
        found = np.flatnonzero(per_unit)  # units of n-grams no example had weigh nothing
        for i, share in zip(found.tolist(), per_unit[found].tolist(), strict=True):
            names = _names(kind, units[i])
            if len(names) == 1:
                totals[names[0]] += share
            else:
                for name in names:
                    totals[name] += share / len(names)
    return dict(totals)


def pushes(
    model: Model, doc: Doc, top: int = 4, parts: list[Part] | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ``top`` words that pushed most toward spam, and those toward ham, strongest
    first (only words whose share points that way)."""
    ranked = sorted(shares(model, doc, parts).items(), key=lambda item: item[1])
    spam = [word[:MAX_SHOWN] for word, share in reversed(ranked) if share > 0][:top]
    ham = [word[:MAX_SHOWN] for word, share in ranked if share < 0][:top]
    return tuple(spam), tuple(ham)


def contributions_total(model: Model, doc: Doc) -> float:
    """The score rebuilt from the shares (the tests compare it with the model's)."""
    return float(sum(shares(model, doc).values())) + model.intercept
