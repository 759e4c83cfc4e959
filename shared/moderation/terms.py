"""A moderator's listed words and phrases found in a comment, however they are disguised.

A listed term is looked for as written (case folded), then with look-alike letters,
accents and invisible characters undone (:func:`~shared.moderation.textcheck.skeleton_form`),
then as spammers spell it: spaced-out letters joined ("v i a g r a", "v.i.a.g.r.a") and
digits or symbols read as the letters they imitate ("vi4gra", "v1agra", "c@sino"). The
last two undoings are narrow, so that honest text does not turn into a listed word:

* only single characters are joined, so "via grace" stays two words;
* a digit or symbol stands for a letter only inside a listed word's own pattern, and only
  while at most half of the word's letters are replaced, so a number ("455", the A55 road,
  "1984") is never read as a word;
* every form is matched as whole words, so "Scunthorpe", "Essex" and "specialist" hide
  nothing.

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
SPELLED = "spaced-out letters or digits for letters"

# The digits and symbols commonly written for each letter; "1" stands for "i" and "l".
LEET: dict[str, str] = {
    "a": "4@",
    "b": "8",
    "e": "3",
    "g": "9",
    "i": "1!|",
    "l": "1|",
    "o": "0",
    "s": "5$",
    "t": "7+",
}

# Separators between a listed phrase's words, as written or spelled.
_BETWEEN_WORDS = re.compile(r"[\s\-_]+")

# A symbol of LEET with no letter or digit next to it, read as a letter ("v ! a g r a");
# between two letters it is a separator ("v!i!a!g!r!a").
_SYMBOL = r"[!$+@|]"
_LONE_SYMBOL = rf"(?<![^\W_]){_SYMBOL}(?![^\W_])"
# A single character: a letter or digit with none next to it, or a lone symbol.
_SINGLE = rf"(?:(?<![^\W_])[^\W_](?![^\W_])|{_LONE_SYMBOL})"
# A separator: any other character but a line break.
_SEPARATOR = rf"(?:(?!{_LONE_SYMBOL})(?:[^\w\n]|_))"
# Single characters parted by one to three separators. Separators and single characters
# are disjoint, so each step has one way to match: linear on any input.
_SPACED_OUT = re.compile(rf"{_SINGLE}(?:{_SEPARATOR}{{1,3}}{_SINGLE})+")
_SINGLES = re.compile(rf"[^\W_]|{_LONE_SYMBOL}")
_ALNUM = re.compile(r"[^\W_]")


def term_words(term: str) -> list[str]:
    """A listed term's words: "payday loan", "payday-loan" and "payday_loan" are two."""
    return [word for word in _BETWEEN_WORDS.split(term) if word]


def unspaced(text: str, symbols: bool = True) -> str:
    """``text`` with runs of spaced-out single characters joined ("v.i.a.g.r.a" → "viagra").

    A lone symbol is kept as a letter ("v ! a g r a" → "v!agra"), or with ``symbols``
    False dropped as a separator ("v ! i ! a" → "via").
    """
    if len(text) < 3:
        return text
    singles = _SINGLES if symbols else _ALNUM
    return _SPACED_OUT.sub(lambda m: "".join(singles.findall(m.group(0))), text)


def _letter(ch: str) -> str:
    stand_ins = LEET.get(ch)
    return f"[{re.escape(ch + stand_ins)}]" if stand_ins else re.escape(ch)


@lru_cache(maxsize=1024)  # list terms repeat for every comment
def spelled_pattern(term: str) -> re.Pattern[str] | None:
    """``term`` (in skeleton form) as spammers spell it, as a whole word.

    Each letter may be written as one of its :data:`LEET` stand-ins, and the words of a
    phrase may run together, as they do once spaced-out letters are joined
    ("p a y d a y l o a n"). Check a match with :func:`reads_as`.
    """
    words = term_words(term)
    if not words:
        return None
    return _whole_words(["".join(_letter(ch) for ch in word) for word in words], r"[\s\-_]*")


def reads_as(term: str, match: str) -> bool:
    """Whether ``match`` of :func:`spelled_pattern` reads as ``term``, not as a number.

    At most half of the term's letters may be written as digits or symbols: "v1agra" and
    "4ss" read as words, "455" and "A55" are numbers.
    """
    term, match = "".join(term_words(term)), "".join(term_words(match))
    letters = sum(1 for ch in term if ch.isalpha())
    replaced = sum(1 for ch in match if not ch.isalpha()) - (len(term) - letters)
    return replaced * 2 <= letters


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

    @cached_property
    def spelled(self) -> tuple[str, ...]:
        """The skeleton, then, if it has any, with its spaced-out letters joined.

        Each reading that differs: a symbol may be a letter or a separator, so "c1@l!s" is
        "cialis" only as written, "v!i!a!g!r!a" is "viagra" only joined, and a lone
        symbol is kept for "v ! a g r a" and dropped for "v ! i ! a ! g ! r ! a".
        """
        readings = (unspaced(self.skeleton), unspaced(self.skeleton, symbols=False))
        return tuple(dict.fromkeys((self.skeleton, *readings)))


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
    target = skeleton_form(term)
    spelled = spelled_pattern(target)
    if spelled is not None:
        for form in forms.spelled:
            if any(reads_as(target, m.group(0)) for m in spelled.finditer(form)):
                return SPELLED
    return None


def find_terms(text: str, terms: Iterable[str]) -> list[tuple[str, str]]:
    """Listed words and phrases present in ``text`` as whole words, case-insensitively.

    Returns ``(term, disguise)`` pairs in sorted order. ``disguise`` is "" when the term is
    written plainly; else it names what had to be undone to find it: :data:`LOOKALIKE`
    letters, accents or invisible characters, or letters :data:`SPELLED` out or written
    as digits.
    """
    forms = _Forms(text)
    hits = []
    for term in sorted(set(terms)):
        disguise = _disguise(term, forms)
        if disguise is not None:
            hits.append((term, disguise))
    return hits
