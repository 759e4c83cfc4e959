"""One import from start to end: check the whole file, then stream it into the writer.

The first reading writes nothing, so a malformed or foreign file (exit 2 at the command
line) leaves both stores untouched; the second reads the same file again in batches of
:data:`BATCH` comments, each committed on its own (shared.imports.writer). Memory holds a
batch and one comment's elements, whatever the size of the file.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.imports.disqus import Disqus
from shared.imports.records import ArticleRecord, CommentRecord
from shared.imports.wordpress import WordPress
from shared.imports.writer import Summary, Writer
from shared.imports.xmlstream import BadFile

if TYPE_CHECKING:
    from shared.bootstrap import Container

FORMATS = {"wordpress": WordPress, "disqus": Disqus}
BATCH = 1000

__all__ = ["BATCH", "FORMATS", "BadFile", "Summary", "run"]


def run(
    container: Container,
    format_: str,
    path: str,
    *,
    on_scan: Callable[[int, int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> tuple[Summary, float]:
    """Import ``path`` (``format_``: ``wordpress`` or ``disqus``). ``on_scan(bytes read,
    size)`` reports the first reading, ``on_start(comments)`` its count, ``on_progress(n)``
    each batch's comments (stored, duplicate or skipped). Returns the summary and the
    seconds taken. Raises :class:`BadFile` before writing anything."""
    if format_ not in FORMATS:
        raise BadFile(f"unknown format {format_!r} (expected one of: {', '.join(FORMATS)})")
    started = time.monotonic()
    parser = FORMATS[format_](path)
    writer: Writer | None = None
    try:
        scan = parser.scan(on_scan)
        if on_start:
            on_start(scan.comments)
        articles: list[ArticleRecord] = []
        comments: list[CommentRecord] = []
        skipped: Counter = Counter()

        def flush() -> None:
            nonlocal writer
            if writer is None:  # the site is known once the first records are read
                writer = Writer(container, format_, parser.site or "")
            if articles or comments:
                writer.write(articles, comments)
            writer.summary.skipped.update(skipped)
            if on_progress and (comments or skipped):
                on_progress(len(comments) + skipped.total())
            articles.clear()
            comments.clear()
            skipped.clear()

        for record in parser.records():
            if isinstance(record, CommentRecord):
                comments.append(record)
                if len(comments) >= batch:
                    flush()
            elif isinstance(record, ArticleRecord):
                articles.append(record)
                if len(articles) >= batch:
                    flush()
            else:
                skipped[record.why] += 1
        if articles or comments or skipped or writer is not None:
            flush()
            assert writer is not None
            writer.finish()
    finally:
        close = getattr(parser, "close", None)
        if close:
            close()
    summary = writer.summary if writer is not None else Summary()
    return summary, time.monotonic() - started
