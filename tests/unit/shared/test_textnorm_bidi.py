"""Directional controls on display (issue 22 item 6): :func:`balance_bidi` keeps a text's
controls from reaching past its end, :func:`reveal_bidi` shows every one as a marker.

A real implementation of the Unicode Bidirectional Algorithm is the judge
(:func:`tests.support.bidi.contained`), not a second copy of our own reasoning."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.textnorm import balance_bidi, encode_bidi, reveal_bidi
from tests.support.bidi import BIDI_CONTROLS, contained, controls_in

# Left-to-right, right-to-left (Hebrew, Arabic) and weak letters, spaces, paragraph ends
# and every directional control: what a name or a comment can mix.
ALPHABET = "ab1 .(\u05d0\u05d1\u0627\u0661\n\u2029" + BIDI_CONTROLS
texts = st.text(alphabet=ALPHABET, max_size=40)


def test_the_classic_spoof_is_cut_off_at_the_name():
    spoof = "evil\u202etxt.exe"
    assert not contained(spoof)  # the oracle sees the attack
    assert balance_bidi(spoof) == "eviltxt.exe"
    assert contained(balance_bidi(spoof))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Ayşe Yılmaz",
        "\u05d3\u05d5\u05d3 \u05db\u05d4\u05df",  # a Hebrew name
        "\u0645\u062d\u0645\u062f\u200f",  # an Arabic name ending in RLM, as keyboards add
        "\u2067\u05d0 b\u2069 and \u202bquoted\u202c",  # paired: they end inside the text
        "line one\nline two",
    ],
)
def test_text_without_a_control_that_leaks_is_left_alone(text):
    assert balance_bidi(text) == text


@given(texts)
def test_balanced_text_never_moves_what_is_around_it(text):
    assert contained(balance_bidi(text))


@given(texts)
def test_balancing_only_removes_controls_and_is_idempotent(text):
    balanced = balance_bidi(text)
    strip = re.compile(f"[{BIDI_CONTROLS}]")
    assert strip.sub("", balanced) == strip.sub("", text)  # every other character, in order
    assert set(controls_in(balanced)) <= set(controls_in(text))
    assert balance_bidi(balanced) == balanced


@given(texts)
def test_text_that_is_already_contained_loses_nothing_it_needs(text):
    # What balancing keeps is contained; what was contained and had no control to remove
    # is shown exactly as written.
    if contained(text) and not controls_in(text):
        assert balance_bidi(text) == text


@given(st.text(max_size=60))
def test_revealed_text_has_no_control_and_says_which_there_were(text):
    revealed = reveal_bidi(text)
    assert not controls_in(revealed)
    if "⟨" not in text:
        restored = re.sub(r"⟨U\+([0-9A-F]{4})⟩", lambda m: chr(int(m[1], 16)), revealed)
        assert restored == text


def test_reveal_names_each_control():
    assert reveal_bidi("evil\u202etxt.exe") == "evil⟨U+202E⟩txt.exe"
    assert reveal_bidi("a\u2066b\u2069\u061c") == "a⟨U+2066⟩b⟨U+2069⟩⟨U+061C⟩"
    assert reveal_bidi(None) == ""


def test_encode_percent_encodes_controls_in_an_address_as_a_browser_would():
    assert encode_bidi("https://a.example/\u202egpj.exe?q=\u2066") == (
        "https://a.example/%E2%80%AEgpj.exe?q=%E2%81%A6"
    )
    assert encode_bidi("https://a.example/caf%C3%A9?x=1") == "https://a.example/caf%C3%A9?x=1"
