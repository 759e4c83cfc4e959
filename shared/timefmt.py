"""Timestamps as text: ISO 8601 in UTC with a ``Z``, the one format Parley writes.

Two precisions, on purpose. Whole seconds where a person or a chart reads the time (the
ops page, worker heartbeats, the dashboard's ``<time datetime>``). Full precision
(microseconds, as ``isoformat`` writes them) where the value is data that is compared or
sent back: the public and admin JSON (docs/contract.md) and the live queue's ``since``, which the
browser returns to ask for what came after; rounding it would show a comment twice or not
at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def iso(value: datetime, *, precise: bool = False) -> str: ...
@overload
def iso(value: None, *, precise: bool = False) -> None: ...
def iso(value: datetime | None, *, precise: bool = False) -> str | None:
    """``value`` as ISO 8601 in UTC with "Z": whole seconds, or full precision if
    ``precise``; None stays None."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    text = value.isoformat() if precise else value.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")
