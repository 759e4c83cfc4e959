"""What the parsers hand the writer, and the field clean-up both formats share (pure).

An export is other software's data: every field may be missing, too long, or hold what
Parley's own intake would refuse (control characters, a ``javascript:`` URL, an IP that
is not one). The rule here is to keep what can be kept and drop what cannot be stored
safely, never to refuse the comment for it: a name is clipped, a bad URL or IP dropped.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from shared.imports.html import to_text
from shared.textnorm import nfc
from shared.validation import is_http_url

# Parley's statuses for imported comments (docs/contract.md §5).
IMPORT_STATUSES = ("published", "held", "spam", "rejected")
MAX_NAME = 100
MAX_EMAIL = 254
MAX_URL = 2048
MAX_TITLE = 500
MAX_AGENT = 1024
MAX_SLUG = 200
ANONYMOUS = "Anonymous"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SLUG_JUNK = re.compile(r"[^\w.-]+")


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """A post (WordPress) or thread (Disqus) as Parley's article."""

    slug: str
    title: str
    url: str
    comments_open: bool = True


@dataclass(frozen=True, slots=True)
class CommentRecord:
    """One comment of the export, cleaned. ``source_id`` and ``parent_source_id`` are the
    export's own ids; the writer maps them to Parley's."""

    source_id: str
    parent_source_id: str | None
    article: str
    status: str
    author_name: str
    author_email: str
    author_url: str | None
    user_ip: str
    user_agent: str | None
    content: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A comment of the export that is not imported, and why (a short phrase)."""

    source_id: str
    why: str


def line(value: str | None, limit: int) -> str:
    """One line of text: NFC, control characters gone, spacing collapsed, clipped."""
    if not value:
        return ""
    return " ".join(_CONTROL.sub(" ", nfc(value)).split())[:limit]


def text(value: str | None) -> str:
    """A comment's body as Parley keeps it: plain text (the export's HTML rendered as text,
    see :func:`shared.imports.html.to_text`), NFC, no control characters but newline and
    tab, at most one blank line in a row."""
    if not value:
        return ""
    plain = to_text(value).replace("\r\n", "\n").replace("\r", "\n")
    plain = _CONTROL_BUT_LINES.sub("", nfc(plain))
    lines = [part.rstrip() for part in plain.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def url(value: str | None) -> str | None:
    """An http(s) URL as the intake would take it, or None."""
    value = (value or "").strip()
    if (
        not value
        or len(value) > MAX_URL
        or _CONTROL.search(value)
        or any(ch.isspace() for ch in value)
        or not is_http_url(value)
    ):
        return None
    return value


def ip(value: str | None) -> str:
    """The address as given when it is one (IPv4 or IPv6), else ""."""
    value = (value or "").strip()
    if len(value) > 45:  # the longest written form of an IPv6 address
        return ""
    try:
        socket.inet_pton(socket.AF_INET, value)  # the common case, without an object
        return value
    except (OSError, ValueError):  # ValueError: a NUL in it
        pass
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ""
    return value


def email(value: str | None) -> str:
    """The address as given (trimmed, one line, clipped); not validated: an old address
    that today's rules would refuse still tells whose comment it was."""
    return line(value, MAX_EMAIL)


def moment(value: str | None) -> datetime | None:
    """A time of the export in UTC: WordPress's ``2019-03-04 12:00:00`` (its ``_gmt``
    fields) or ISO 8601 (Disqus, with or without ``Z``); a time without a zone is UTC.
    None for a missing or impossible one (WordPress writes ``0000-00-00 00:00:00``)."""
    value = (value or "").strip()
    if not value or value.startswith("0000"):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def valid_slug(slug: str) -> bool:
    """Parley's article slugs (shared.articles.valid_slug): letters, digits, '-', '_', '.'."""
    return 0 < len(slug) <= MAX_SLUG and all(ch.isalnum() or ch in "-_." for ch in slug)


def last_segment(link: str | None) -> str:
    """The last non-empty path segment of a URL, percent-decoded ("" if none)."""
    try:
        path = urlsplit((link or "").strip()).path
    except ValueError:
        return ""
    segments = [part for part in path.split("/") if part]
    return unquote(segments[-1]) if segments else ""


def slugify(value: str) -> str:
    """``value`` with every run of characters a slug cannot hold made one '-'."""
    return _SLUG_JUNK.sub("-", nfc(value)).strip("-.")[:MAX_SLUG].strip("-.")


def pick_slug(*candidates: str | None) -> str:
    """The first candidate that is a valid slug as it is (percent-decoded); failing that,
    the first one that slugifies to something; "" if none does."""
    decoded = [nfc(unquote(c.strip())) for c in candidates if c and c.strip()]
    for candidate in decoded:
        if valid_slug(candidate):
            return candidate
    for candidate in decoded:
        if slug := slugify(candidate):
            return slug
    return ""


def article(slug: str, title: str | None, link: str | None, open_: bool) -> ArticleRecord | None:
    """The article of a post or thread, or None when it has no usable URL (Parley's
    articles need an http(s) one)."""
    address = url(link)
    if not slug or address is None:
        return None
    return ArticleRecord(slug, line(title, MAX_TITLE) or slug, address, open_)
