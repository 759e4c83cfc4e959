"""The writer's database side: a batch of new comments inserted in one transaction, then
handed to the workers.

The writer checks each article of the batch once (unknown → 404, closed → 403), inserts
the rest in one transaction, commits, and hands the batch to the workers (one check task
and the ``comment.received`` events, in one Redis round trip) before any request is
answered (:func:`store`).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.batchinsert import PreparedInsert
from shared.intake.protocol import COMMENT_FIELDS, CommentsClosed, Duplicate, NoSuchArticle
from shared.models import Comment, CommentHistory, history_row, utcnow

log = logging.getLogger(__name__)

_STAMPED = ("created_at", "updated_at")
_HISTORY_FIELDS = ("comment_id", "at", "actor", "action", "from_status", "to_status", "note")


class RowWriter:
    """Inserts new comments with their first history entry, in one transaction per batch.

    The article decides first: each distinct article of a batch is looked up once, a
    comment on an unknown or closed article is refused, and the others take the article's
    permalink. Checked here rather than in each request, the lookup is shared by the batch
    and sees the article as it is when the comment is stored.
    """

    def __init__(self, engine: Engine, articles):
        self.engine = engine
        self.articles = articles  # slug -> (permalink, comments open) or None
        # One multi-row statement a batch (see PreparedInsert's multirow).
        self._comments = PreparedInsert(
            Comment.__table__, COMMENT_FIELDS + _STAMPED, engine.dialect, multirow=True
        )
        self._history = PreparedInsert(
            CommentHistory.__table__, _HISTORY_FIELDS, engine.dialect, multirow=True
        )

    def write(self, rows: list[dict]) -> list[BaseException | None]:
        """Insert ``rows``; one outcome per row: None (committed), :class:`NoSuchArticle`,
        :class:`CommentsClosed`, :class:`Duplicate`, or the error that kept it out. A
        refused row or a duplicate in a batch does not cost the others."""
        outcomes: list[BaseException | None] = [None] * len(rows)
        try:
            articles = {slug: self.articles(slug) for slug in {row["article_slug"] for row in rows}}
        except DBAPIError as exc:
            return [exc] * len(rows)
        accepted = []
        for index, row in enumerate(rows):
            article = articles[row["article_slug"]]
            if article is None:
                outcomes[index] = NoSuchArticle()
            elif not article[1]:
                outcomes[index] = CommentsClosed()
            else:
                row["article_permalink"] = article[0]
                accepted.append(index)
        if accepted:
            inserted = self._insert([rows[index] for index in accepted])
            for index, outcome in zip(accepted, inserted, strict=True):
                outcomes[index] = outcome
        return outcomes

    def _insert(self, rows: list[dict]) -> list[BaseException | None]:
        now = utcnow()
        for row in rows:
            row["created_at"] = row["updated_at"] = now
        history = [history_row(row["id"], now, "api", "received", None, "received") for row in rows]
        try:
            with self.engine.begin() as conn:
                self._comments.execute(conn, rows)
                self._history.execute(conn, history)
            return [None] * len(rows)
        except IntegrityError:
            if len(rows) == 1:
                return [Duplicate()]
        except DBAPIError as exc:
            return [exc] * len(rows)
        except Exception as exc:  # noqa: BLE001 - every waiter must get an answer
            log.exception("unexpected error in the intake writer")
            return [exc] * len(rows)
        # A duplicate somewhere in the batch: insert the rows one by one to find it.
        return [outcome for row in rows for outcome in self._insert([row])]


def store(rows: RowWriter, after_commit, batch: list[dict]) -> list[BaseException | None]:
    """Insert ``batch`` (see :meth:`RowWriter.write`, whose outcomes are returned), then hand
    the committed rows to ``after_commit``.

    The hand-off comes before any request is answered, so a 202 normally means "stored and
    queued". A broker that is down fails fast (connect refused) and costs only the
    sweeper's delay: a failed hand-off is logged, never raised, and the sweeper queues
    those rows.
    """
    outcomes = rows.write(batch)
    committed = [row for row, outcome in zip(batch, outcomes, strict=True) if outcome is None]
    if committed:
        try:
            after_commit(committed)
        except Exception:  # noqa: BLE001 - never let a hand-off failure stop the writer
            log.exception("after-commit hand-off failed; the sweeper will queue these")
    return outcomes
