"""A comment's HTML as the plain text Parley stores and shows.

WordPress keeps a comment as typed, with the few tags its comment form allows (``<a>``,
``<em>``, ``<strong>``, ``<blockquote>``, …) and paragraphs as blank lines; Disqus keeps
``<p>`` paragraphs and ``<br>``. Parley's comments are plain text, escaped on every page,
so the import renders the markup as text: paragraphs and line breaks become newlines, a
link keeps its address after its text when the text does not already show it, and any
other tag leaves only its text. Nothing of the markup survives to be interpreted later.
Parsed by lxml's HTML parser (libxml2), which recovers from broken markup.
"""

from __future__ import annotations

import html as html_lib

from lxml import etree
from lxml import html as lxml_html

# Elements after which the text goes on in a new paragraph, or a new line.
_PARAGRAPHS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_LINES = frozenset({"br", "li", "tr", "hr"})
_SILENT = frozenset({"script", "style", "head", "title", "template"})


def to_text(markup: str) -> str:
    """``markup`` (an HTML fragment, or plain text) as plain text."""
    if "<" not in markup:
        return html_lib.unescape(markup) if "&" in markup else markup
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return html_lib.unescape(markup)
    out: list[str] = []
    _walk(root, out)
    return "".join(out)


def _walk(element, out: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    tag = tag.lower()
    if tag in _SILENT:
        return
    if tag == "br":
        out.append("\n")
    elif tag in _PARAGRAPHS and out:
        out.append("\n\n")
    if element.text and tag not in _SILENT:
        out.append(element.text)
    for child in element:
        _walk(child, out)
        if child.tail:
            out.append(child.tail)
    if tag == "a":
        href = (element.get("href") or "").strip()
        shown = element.text_content().strip()
        if href.startswith(("http://", "https://")) and href not in shown:
            out.append(f" ({href})")
    elif tag in _PARAGRAPHS:
        out.append("\n\n")
    elif tag in _LINES and tag != "br":
        out.append("\n")
