"""Listed words with an everyday innocent sense: they count only in spammy company.

"xxx" closes many affectionate messages ("…love Kate xxx": 25 of the 36 SMS Spam
Collection messages that hold it are ham) and heads adult spam ("my xxx pics"); "crypto"
names a chip's co-processor as often as a get-rich offer. A listed term named in
:data:`CONTEXT` is found only when one of its context words is in the same comment,
found the way listed words are (whole words, disguises undone); every other listed term
is found alone, as before. The detail names the context word, so that a moderator sees
why the term counted.

Pure: no I/O. The context words are chosen from what the spam of each kind says and
what honest readers do not say next to the term ("trade" is out: "crypto trade-offs";
"returns" is out: "the crypto call returns an error").
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.moderation.terms import find_terms

# The commonest first: the dashboard's help shows the first few.
_ADULT = (
    "pics video sex nude pic photos photo videos vid vids cam cams webcam sexy nudes "
    "naked porn porno adult horny girls dating"
)
_MONEY = (
    "invest profit earn trading investing investment investments investor profits "
    "earning earnings income trader roi wallet usdt giveaway airdrop signals deposit "
    "withdraw withdrawal payout bonus broker recovery"
)

# Listed term -> the words that must be near it (anywhere in the comment) for it to count.
CONTEXT: dict[str, tuple[str, ...]] = {
    "xxx": tuple(_ADULT.split()),
    "crypto": tuple(_MONEY.split()),
}


def context_for(term: str, text: str) -> str | None:
    """Why ``term``, found in ``text``, counts: "" for a term that needs no context, the
    commonest context word found for one that does, or None when its context is missing."""
    needed = CONTEXT.get(term)
    if needed is None:
        return ""
    found = {word for word, _ in find_terms(text, needed)}
    return next((word for word in needed if word in found), None)


def with_context(hits: Iterable[tuple[str, str]], text: str) -> list[tuple[str, str, str]]:
    """``(term, disguise, context word)`` for each hit of :func:`find_terms` that counts;
    the context word is "" for terms that need none."""
    kept = []
    for term, disguise in hits:
        context = context_for(term, text)
        if context is not None:
            kept.append((term, disguise, context))
    return kept
