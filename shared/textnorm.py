"""Text normalisation shared by intake (fingerprints) and the heuristics (similarity)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

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
