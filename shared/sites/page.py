"""What a fetched page says about itself: its ``<title>``, ``og:title``, canonical URL
and the article slugs its Parley markup names. A pure function of the HTML text (Python's
own tolerant HTML parser: any text parses, broken markup included).

Which title an article gets (:func:`choose_title`): the title the widget sent, when the page
agrees with it (equal, ignoring case and spacing, to the page's ``og:title`` or
``<title>``, or the start of the ``<title>``, as in "Story — Site name"); else the page's
``og:title``; else its ``<title>``; else the slug. The widget's word alone never names an
article: anyone can send any title, but only the site writes its pages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

from shared.sites.origins import origin_of

MAX_TITLE = 500
MAX_URL = 2048
# Enough to see every slug a page names, and no more memory than that.
MAX_SLUGS = 32
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """NFC, control characters out, runs of white space as one space, trimmed."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    return _SPACE.sub(" ", text).strip()


@dataclass
class PageFacts:
    title: str = ""
    og_title: str = ""
    canonical: str = ""
    slugs: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self._in_title = False
        self._title_done = False
        self._title: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "title" and not self._title_done:
            self._in_title = True
        elif tag == "meta" and not self.facts.og_title:
            if values.get("property", "").lower() == "og:title":
                self.facts.og_title = clean_text(values.get("content", ""))[: MAX_TITLE * 2]
        elif tag == "link" and not self.facts.canonical:
            if "canonical" in values.get("rel", "").lower().split():
                self.facts.canonical = values.get("href", "").strip()[: MAX_URL + 1]
        slug = values.get("data-parley-article")
        if slug is not None and len(self.facts.slugs) < MAX_SLUGS:
            self.facts.slugs.append(slug.strip())

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True
            self.facts.title = clean_text("".join(self._title))[: MAX_TITLE * 2]

    def handle_data(self, data):
        if self._in_title and sum(map(len, self._title)) < MAX_TITLE * 4:
            self._title.append(data)


def read_page(html: str) -> PageFacts:
    """The :class:`PageFacts` of ``html`` (any text; what is missing stays empty)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    if reader._in_title and not reader._title_done:  # an unclosed <title>: what it held
        reader.facts.title = clean_text("".join(reader._title))[: MAX_TITLE * 2]
    return reader.facts


def _same(a: str, b: str) -> bool:
    return bool(a) and a.casefold() == b.casefold()


def choose_title(facts: PageFacts, given: str | None, slug: str) -> str:
    """The article's title (see the module docstring), at most :data:`MAX_TITLE` characters."""
    given = clean_text(given or "")
    page_title = facts.title
    agrees = bool(given) and (
        _same(given, facts.og_title)
        or _same(given, page_title)
        or page_title.casefold().startswith(given.casefold())
    )
    title = given if agrees else (facts.og_title or page_title or slug)
    return title[:MAX_TITLE].strip() or slug[:MAX_TITLE]


def without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def choose_url(facts: PageFacts, fetched_url: str, origins: tuple[str, ...]) -> str:
    """The article's URL: the page's canonical link when it is an http(s) URL on one of
    ``origins`` (resolved against the page), else the URL fetched; no fragment."""
    if facts.canonical:
        try:
            canonical = urljoin(fetched_url, facts.canonical)
        except ValueError:
            canonical = ""
        if (
            canonical
            and len(canonical) <= MAX_URL
            and origin_of(canonical) in origins
            and not any(ch.isspace() for ch in canonical)
        ):
            return without_fragment(canonical)
    return without_fragment(fetched_url)
