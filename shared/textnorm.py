"""Text normalisation shared by intake (fingerprints) and the heuristics (similarity)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_ASCII_DIGITS = str.maketrans("", "", "0123456789")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def similarity_key(text: str) -> str:
    """Text reduced to what a spammer cannot cheaply vary.

    Case, accents, punctuation, digits, spacing and zero-width tricks are folded away, so
    "Buy CHEAP watches!!! 123" and "buy cheap watches" give the same key.
    """
    # ASCII has nothing to decompose or combine, so the short way gives the same result
    # for most comments at a fraction of the cost.
    folded = text.lower().translate(_ASCII_DIGITS) if text.isascii() else _folded(text)
    return _NON_WORD.sub(" ", folded).strip()


def _folded(text: str) -> str:
    """Case, accents, digits and compatibility forms folded away (any text)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch) and not ch.isdigit())


def sha256(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def content_hash(text: str) -> str:
    """Hash of :func:`similarity_key`: equal for the same or nearly the same text."""
    return sha256(similarity_key(text))


def fingerprint(email: str, text: str) -> str:
    """Same author (by e-mail) + same text: the key of the 409 duplicate rule."""
    return sha256(email.strip().casefold(), " ".join(nfc(text).split()))


# --- display: directional controls -------------------------------------------------------
#
# Unicode's Bidi_Control characters change the direction of the text after them: one
# U+202E RIGHT-TO-LEFT OVERRIDE in a name shows "evil\u202etxt.exe" as "evilexe.txt" and
# reverses whatever the page puts after the name in the same line. Stored text keeps them
# (a moderator must see what was sent, and the API returns data as stored); these helpers
# are for display only: balance_bidi for readers' pages, reveal_bidi for moderators' and
# encode_bidi for the addresses of links.

_EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")  # LRE RLE LRO RLO, each closed by a PDF
_ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI RLI FSI, each closed by a PDI
_PDF, _PDI = "\u202c", "\u2069"
# What pairs, and bidi class B: a paragraph's end, which ends every embedding and isolate.
_SCOPED = re.compile("[\u202a-\u202e\u2066-\u2069\n\r\x1c-\x1e\x85\u2029]")
_PAIRED = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Far below the algorithm's own limit of 125 levels, whose overflow rules are then moot.
_MAX_DEPTH = 16


def balance_bidi(text: str) -> str:
    """``text`` without the directional controls that would reach past its end.

    An embedding, override or isolate left open at the end of the text (or of one of its
    paragraphs) is removed, and so is a closing PDF or PDI that closes nothing; what opens
    and closes inside the text is kept, as are the marks LRM, RLM and ALM (they only
    resolve the neutral characters next to them). So right-to-left names and quotes show
    as written, and nothing shown after the text is reordered by it. Other characters are
    kept, in order; the result is its own balance.
    """
    if not _PAIRED.search(text):
        return text
    drop: list[int] = []
    opened: list[tuple[int, bool]] = []  # (position, is an isolate), innermost last
    for match in _SCOPED.finditer(text):
        ch, at = match.group(), match.start()
        if ch in _EMBEDDINGS or ch in _ISOLATES:
            if len(opened) < _MAX_DEPTH:
                opened.append((at, ch in _ISOLATES))
            else:
                drop.append(at)
        elif ch == _PDF:
            # Closes the innermost embedding, never across an isolate (UAX #9, X7).
            if opened and not opened[-1][1]:
                opened.pop()
            else:
                drop.append(at)
        elif ch == _PDI:
            # Closes the innermost isolate and every embedding opened inside it (X6a).
            if any(isolate for _, isolate in opened):
                while not opened.pop()[1]:
                    pass
            else:
                drop.append(at)
        else:  # a paragraph's end: what is still open would have reached it
            drop.extend(at for at, _ in opened)
            opened.clear()
    drop.extend(at for at, _ in opened)
    if not drop:
        return text
    pieces, start = [], 0
    for at in sorted(drop):
        pieces.append(text[start:at])
        start = at + 1
    pieces.append(text[start:])
    return "".join(pieces)


def reveal_bidi(text: str | None) -> str:
    """``text`` with each directional control shown as a marker such as ``⟨U+202E⟩``, so
    that a moderator sees it and it reorders nothing; "" for None."""
    if not text:
        return ""
    return _CONTROL.sub(lambda match: f"⟨U+{ord(match.group()):04X}⟩", text)


def encode_bidi(url: str) -> str:
    """``url`` with its directional controls percent-encoded (UTF-8), as a browser sends
    them: the same address, which no longer reorders how it is shown."""
    return _CONTROL.sub(lambda match: quote(match.group()), url)
