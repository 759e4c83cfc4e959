"""The comments widget's file (services/api/static/embed.js, served as GET /embed.js): its
size, what it must never do, and the contrast of its default colours (WCAG AA)."""

from __future__ import annotations

import gzip
import re

import pytest

from services.api.embed import WIDGET

SOURCE = WIDGET.read_text(encoding="utf-8")
LIMIT = 20 * 1024  # docs/contract.md §3, issue 25: at most 20 KB gzipped


def test_widget_is_at_most_20_kb_gzipped():
    raw = SOURCE.encode()
    packed = gzip.compress(raw, compresslevel=9)
    assert len(packed) <= LIMIT, f"embed.js is {len(packed):,} bytes gzipped (raw {len(raw):,})"
    # and not an empty stand-in: the widget builds forms, threads and reports
    for needle in ("attachShadow", "Idempotency-Key", "form-token", "next_cursor", "/reports"):
        assert needle in SOURCE


@pytest.mark.parametrize(
    "pattern",
    [
        r"\beval\s*\(",
        r"new\s+Function\b",
        r"\bFunction\s*\(",
        r"\.innerHTML\b",
        r"\.outerHTML\b",
        r"insertAdjacentHTML",
        r"document\.write",
        r"document\.cookie",
        r"setTimeout\s*\(\s*['\"`]",
        r"setInterval\s*\(\s*['\"`]",
        r"\"on[a-z]+\"\s*:",  # an inline handler passed as an attribute to h()
        r"setAttribute\(\s*['\"]on",
        r"createContextualFragment",
        r"DOMParser",
        r"credentials:\s*['\"](include|same-origin)",
    ],
)
def test_widget_never_builds_markup_or_code_from_strings(pattern):
    assert not re.search(pattern, SOURCE), pattern


def test_every_request_omits_cookies_and_goes_to_the_widget_host():
    # One fetch, in call(), with credentials "omit", to API (derived from the script's URL).
    assert SOURCE.count("fetch(") == 1
    assert 'credentials: "omit"' in SOURCE
    assert "fetch(API + path" in SOURCE
    assert re.findall(r"https?://", SOURCE.split("(() => {", 1)[1]) == []


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _palettes() -> dict[str, dict[str, str]]:
    """The default colours of the light and the dark theme, from the stylesheet."""
    found = {}
    light = re.search(r"^\.parley\{(.*?)$", SOURCE, re.M).group(1)
    dark = re.search(r"prefers-color-scheme:dark\)\{\.parley\{(.*?)\}\}", SOURCE).group(1)
    for theme, block in (("light", light), ("dark", dark)):
        found[theme] = dict(
            re.findall(r"--_([a-z-]+):var\(--parley-[a-z-]+,(#[0-9a-f]{6})\)", block)
        )
    return found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_default_colours_meet_wcag_aa(theme):
    colours = _palettes()[theme]
    text = [
        ("fg", "bg"),
        ("muted", "bg"),
        ("accent", "bg"),  # links and quiet buttons
        ("error", "bg"),
        ("on-accent", "accent"),  # the post button
        ("ok-fg", "ok-bg"),  # the pending notice
        ("fg", "field"),
    ]
    for fore, back in text:
        ratio = _contrast(colours[fore], colours[back])
        assert ratio >= 4.5, f"{theme}: {fore} on {back} is {ratio:.2f}:1"
    # field borders and the focus ring are user-interface components: 3:1
    for fore, back in (("muted", "field"), ("accent", "bg")):
        assert _contrast(colours[fore], colours[back]) >= 3
