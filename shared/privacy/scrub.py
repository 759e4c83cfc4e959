"""What erasing a comment does to each of its fields (pure): the row stays as a tombstone
(id, article, thread, times, status, history), so counts, threads and the moderators'
record hold, and nothing in it names or identifies its author.

| field | erased |
|---|---|
| ``author_name`` | ``"deleted"`` (shown so on an anonymised published comment) |
| ``author_email``, ``user_ip`` | ``""`` (the columns are not nullable) |
| ``author_url``, ``user_agent``, ``referrer``, ``accept_language`` | ``NULL`` |
| ``author_key`` (the commenter key's hash), ``idempotency_key`` (a digest), ``request_id`` (links to log lines) | ``NULL`` |
| ``author_verified``, ``notify`` (mail about replies) | false |
| ``fingerprint`` (a hash of the address and the text) | a hash of the comment's id alone |
| ``content``, ``content_hash`` | ``""`` and a hash of the id, unless the comment stays published anonymised |
| ``reasons`` | each rule, score and trial flag kept (the quality figures), its ``detail`` and ``entry`` dropped (they may quote the address, an IP or the text) |
| ``akismet`` | only ``verdict``, ``error`` and ``checked_at`` kept |
| status, times, ``parent_id``, ``article_slug``, history | kept (moderators' notes too: they are the moderators' words) |
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

ERASED_NAME = "deleted"
_KEPT_AKISMET = ("verdict", "error", "checked_at")


def tombstone_hash(comment_id: str) -> str:
    """What replaces a hash computed from the author's data: unique per comment (the
    article's fingerprint constraint), derived from nothing but the id."""
    return hashlib.sha256(f"parley.erased\x00{comment_id}".encode()).hexdigest()


def erased_reasons(reasons: Any) -> list[dict]:
    """``reasons`` with each rule's name, score and trial flag only."""
    kept = []
    for reason in reasons if isinstance(reasons, list) else []:
        if not isinstance(reason, Mapping):
            continue
        item = {"rule": reason.get("rule"), "score": reason.get("score")}
        if reason.get("trial"):
            item["trial"] = True
        kept.append(item)
    return kept


def erased_akismet(akismet: Any) -> dict:
    """Akismet's record with its verdict (and error kind, time) only."""
    if not isinstance(akismet, Mapping):
        return {}
    return {key: akismet[key] for key in _KEPT_AKISMET if key in akismet}


def erased_values(
    comment_id: str, reasons: Any, akismet: Any, *, keep_content: bool
) -> dict[str, Any]:
    """The columns to set on an erased comment. ``keep_content``: it stays published,
    anonymised (its text is public and stays so)."""
    marker = tombstone_hash(comment_id)
    values: dict[str, Any] = dict(
        author_name=ERASED_NAME,
        author_email="",
        author_url=None,
        user_ip="",
        user_agent=None,
        referrer=None,
        accept_language=None,
        author_key=None,
        author_verified=False,
        notify=False,
        idempotency_key=None,
        request_id=None,
        fingerprint=marker,
        reasons=erased_reasons(reasons),
        akismet=erased_akismet(akismet),
    )
    if not keep_content:
        values.update(content="", content_hash=marker)
    return values
