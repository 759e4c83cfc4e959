"""The moderation lists: their kinds, and the entries a new site starts with.

Seeded into the database's list table by kind (each migration that seeds or changes
them keeps its own snapshot, so that it never changes meaning with this file). Block
words are authoritative: a hit is spam without asking Akismet. So only words with no
common innocent sense are block words; words that are often spam but also honest talk
("casino", "porn", "crypto") are hold words, and "xxx" and "crypto" count only next to
their spammy context (:mod:`shared.moderation.senses`).

Shorteners are kept here: the one data package found (link-shorteners) ships only an
sdist that imports the deprecated pkg_resources, so the common services are listed and
moderators extend the list.

Pure: no I/O.
"""

from __future__ import annotations

DEFAULT_LISTS: dict[str, tuple[str, ...]] = {
    "block_word": (
        "viagra", "cialis", "levitra", "online casino", "payday loan",
        "escort service", "buy followers", "replica watches",
    ),
    "hold_word": (
        "crypto", "bitcoin", "forex", "telegram", "whatsapp", "work from home",
        "investment opportunity", "guaranteed profit", "binary options", "airdrop",
        "casino", "porn", "porno", "xxx",
    ),
    "blocked_email": (),
    "blocked_ip": (),
    "blocked_domain": (),
    "trusted_author": (),
    "shortener": (
        "bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "cutt.ly",
        "rebrand.ly", "tiny.cc", "shorturl.at", "rb.gy", "s.id", "v.gd", "bl.ink",
    ),
    "disposable_domain": (),
    "allowed_domain": (),
}  # fmt: skip

# List kind (as stored in the database) -> RuleContext field.
LIST_FIELDS: dict[str, str] = {
    "block_word": "block_words",
    "hold_word": "hold_words",
    "blocked_email": "blocked_emails",
    "blocked_ip": "blocked_ips",
    "blocked_domain": "blocked_domains",
    "trusted_author": "trusted_authors",
    "shortener": "shorteners",
    "disposable_domain": "extra_disposable_domains",
    "allowed_domain": "allowed_domains",
}
