"""A moderator's listed words and phrases found in a comment, however they are disguised.

A listed term is looked for as written (case folded), then with look-alike letters,
accents and invisible characters undone (:func:`~shared.moderation.textcheck.skeleton_form`),
always as whole words, so that "Scunthorpe", "Essex" and "specialist" hide nothing.

Every pattern here runs on untrusted 10,000-character input and takes time linear in it:
each quantified part is followed by characters it cannot match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property, lru_cache

from shared.moderation.textcheck import plain_form, skeleton_form

# How a listed term was disguised, for the moderator's detail.
LOOKALIKE = "look-alike or invisible characters"

# Separators between a listed phrase's words.
_BETWEEN_WORDS = re.compile(r"[\s\-_]+")


def term_words(term: str) -> list[str]:
    """A listed term's words: "payday loan", "payday-loan" and "payday_loan" are two."""
    return [word for word in _BETWEEN_WORDS.split(term) if word]


@lru_cache(maxsize=256)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    # Split on the separators the pattern allows between words, so that no word starts or
    # ends with one: "a - b" as "a[\s\-_]+\-[\s\-_]+b" took seconds on "a" + "-" * 10000.
    words = term_words(term)
    if not words:
        return None
    return _whole_words([re.escape(word) for word in words], r"[\s\-_]+")


def _whole_words(words: list[str], between: str) -> re.Pattern[str]:
    """Word patterns (each of fixed width) joined by ``between``, found only as whole words.

    Unicode word boundaries: "cunt" is not found in "Scunthorpe", nor "sex" in "Essex". The
    boundary before the first word is checked after it, so that the pattern starts with
    the word: the regex engine then skips ahead to where its first letters are instead of
    trying the whole pattern at every position (5 to 50 times faster on a typical comment).
    """
    first, rest = words[0], between.join(words[1:])
    return re.compile(rf"{first}(?<!\w{first}){between if rest else ''}{rest}(?!\w)")


@lru_cache(maxsize=1024)  # list terms repeat for every comment
def _skeleton_pattern(term: str) -> re.Pattern[str] | None:
    return _term_pattern(skeleton_form(term))


class _Forms:
    """The forms of one text that terms are looked for in, each made when first needed."""

    def __init__(self, text: str):
        self.text = text
        self.plain = plain_form(text)

    @cached_property
    def skeleton(self) -> str:
        return skeleton_form(self.text)


def _disguise(term: str, forms: _Forms) -> str | None:
    """How ``term`` is written in the text: "" plainly, else its disguise; None if absent."""
    pattern = _term_pattern(plain_form(term))
    if pattern is None:
        return None
    if pattern.search(forms.plain):
        return ""
    folded = _skeleton_pattern(term)
    # Skipped when it is the same search in the same text as above.
    if folded is not None and not (folded is pattern and forms.skeleton == forms.plain):
        if folded.search(forms.skeleton):
            return LOOKALIKE
    return None


def find_terms(text: str, terms: Iterable[str]) -> list[tuple[str, str]]:
    """Listed words and phrases present in ``text`` as whole words, case-insensitively.

    Returns ``(term, disguise)`` pairs in sorted order. ``disguise`` is "" when the term is
    written plainly; else it names what had to be undone to find it: :data:`LOOKALIKE`
    letters, accents or invisible characters.
    """
    forms = _Forms(text)
    hits = []
    for term in sorted(set(terms)):
        disguise = _disguise(term, forms)
        if disguise is not None:
            hits.append((term, disguise))
    return hits
