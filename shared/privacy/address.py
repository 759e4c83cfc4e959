"""The form an e-mail address is looked up by (pure).

The intake stores an address as ``email-validator`` normalises it (the domain lower-cased
and in Unicode, the text NFC; the local part as typed), so a request names the same person
however it spells the domain, and the local part is compared case-insensitively (SQL
``lower()`` on both sides: PostgreSQL folds every cased letter, SQLite only A-Z; see the
README's privacy section).
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

# No stored address is longer (docs/contract.md §3).
MAX_ADDRESS = 254


class AddressError(ValueError):
    """An address no comment can have been stored under; the message says why."""


def lookup_address(raw: str) -> str:
    """The address to look ``raw`` up by: trimmed, normalised as the intake normalises a
    valid address; an invalid one is looked up as it is (an imported comment may hold one).
    Raises :class:`AddressError` for an empty address, one over 254 characters, or one
    with control characters."""
    text = raw.strip()
    if not text:
        raise AddressError("must not be empty")
    if len(text) > MAX_ADDRESS:
        raise AddressError(f"must be at most {MAX_ADDRESS} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise AddressError("must not hold control characters")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return unicodedata.normalize("NFC", text)
