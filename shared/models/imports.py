"""Tables of the moderation store that remember imports (docs/contract.md §8 ``parley
import``), so that running one again adds nothing.

Kept apart from the comments themselves: a comment imported once and later purged (spam
past its retention), erased or rejected must not come back when the same file is imported
again, so what was imported is recorded here and never deleted with the comment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import ModerationBase, UTCDateTime, utcnow


class ImportSource(ModerationBase):
    """One exporting site (``wordpress:<site>``, ``disqus:<forum>``) and its secret salt.

    An imported comment's id is a keyed hash of the source and the comment's id in the
    export (shared.imports.writer): the same on every run, so a reply links to its parent
    before the parent is read, and unguessable, since ``GET /api/v1/comments/{id}`` answers
    for any id.
    """

    __tablename__ = "import_sources"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportedComment(ModerationBase):
    """A comment of an export that is stored: its source, its id there, its id here."""

    __tablename__ = "imported_comments"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    comment_id: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
