"""Bidirectional text in tests: the characters and an oracle that asks a real
implementation of the Unicode Bidirectional Algorithm (python-bidi, over the Rust crate
unicode-bidi) whether a text can move what is shown around it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bidi import get_display

# Unicode's Bidi_Control property: the characters that change the direction of other text.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(f"[{BIDI_CONTROLS}]")
# Bidi class B: each one ends a paragraph, and with it every embedding and isolate.
_PARAGRAPH = re.compile("[\n\r\x1c\x1d\x1e\x85\u2029]")

BEFORE, AFTER = "START ", " END"


def contained(text: str) -> bool:
    """Whether ``text``, between left-to-right words, leaves them where they are: shown
    left to right, the first line still starts with ``START`` and the last ends with ``END``
    (text that is not contained reverses or moves them)."""
    shown = get_display(BEFORE + text + AFTER, base_dir="L")
    lines = _PARAGRAPH.split(_CONTROL.sub("", shown))
    return lines[0].startswith(BEFORE) and lines[-1].endswith(AFTER)


def controls_in(text: str) -> list[str]:
    """The Bidi_Control characters in ``text``, as U+XXXX."""
    return [f"U+{ord(ch):04X}" for ch in _CONTROL.findall(text)]


class TextNodes(HTMLParser):
    """The text of an HTML document, node by node, with whether each is inside ``<bdi>``."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.nodes: list[tuple[str, bool]] = []
        self._bdi = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self._bdi += tag == "bdi"

    def handle_endtag(self, tag):
        self._bdi -= tag == "bdi"

    def handle_data(self, data):
        if data.strip():
            self.nodes.append((data, self._bdi > 0))
