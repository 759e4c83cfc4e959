"""Text normalisation: the similarity key folds what a spammer can cheaply vary."""

import string
import time

import pytest

from shared.textnorm import _folded, similarity_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Buy CHEAP watches!!! 123", "buy cheap watches"),
        ("Café  crème", "cafe creme"),
        ("ＢＵＹ ｎｏｗ", "buy now"),  # fullwidth compatibility forms
        ("Stra\u00dfe", "strasse"),
    ],
)
def test_variants_share_a_key(a, b):
    assert similarity_key(a) == similarity_key(b)


def test_the_ascii_short_way_folds_exactly_like_the_general_one():
    samples = [string.printable, "MiXeD 42 case_with-dashes", "", "\t\n", "0123 abc 456"]
    samples += [chr(code) * 3 for code in range(128)]
    for text in samples:
        assert text.lower().translate(str.maketrans("", "", string.digits)) == _folded(text)


@pytest.mark.parametrize(
    "text", ["_-" * 5000, "a\u0301" * 5000, "1 " * 5000, "\u200b." * 5000, "ß" * 10000]
)
def test_similarity_key_is_linear_on_long_input(text):
    start = time.perf_counter()
    similarity_key(text)
    assert time.perf_counter() - start < 0.5
