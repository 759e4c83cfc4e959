"""The writer's database side: a batch of new comments inserted in one transaction, then
handed to the workers.

The writer checks each article of the batch once (unknown → 404, closed → 403), inserts
the rest in one transaction, commits, and hands the batch to the workers (one check task
and the ``comment.received`` events, in one Redis round trip) before any request is
answered (:func:`store`).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, Table, bindparam, insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.intake.protocol import COMMENT_FIELDS, CommentsClosed, Duplicate, NoSuchArticle
from shared.models import Comment, CommentHistory, history_row, utcnow

log = logging.getLogger(__name__)

_STAMPED = ("created_at", "updated_at")
_HISTORY_FIELDS = ("comment_id", "at", "actor", "action", "from_status", "to_status", "note")
_UNSET = object()


def _each(process, values: list) -> list:
    """``process`` applied to each of ``values``, converting a run of equal values once: a
    batch shares its timestamp, and every new comment starts with the same empty reasons
    and verdict (bind processors are pure functions of the value)."""
    out = []
    last = last_out = _UNSET
    for value in values:
        if value is not last and not (type(value) is type(last) and value == last):
            last, last_out = value, process(value)
        out.append(last_out)
    return out


class _PreparedInsert:
    """An INSERT compiled once for a dialect, with parameters converted by the column
    types' own bind processors (what SQLAlchemy would do for each row, without rebuilding
    its execution context per row).

    On a driver with positional parameters (SQLite) a batch is one multi-row statement:
    the driver's executemany steps once per row, and each step lets go of the GIL. In a
    process whose request threads all want the GIL back, every such hand-over can cost the
    writer a whole switch interval, and the batch's rows wait for it.
    """

    # Bound parameters per statement: SQLite's historical limit, well below today's.
    MAX_PARAMETERS = 999

    def __init__(self, table: Table, names: tuple[str, ...], engine: Engine):
        dialect = engine.dialect
        compiled = (
            insert(table).values({name: bindparam(name) for name in names}).compile(dialect=dialect)
        )
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup) if dialect.positional else names
        self.positional = dialect.positional
        self.processors = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.names
        ]
        if self.positional:
            head, values = self.sql.rsplit(" VALUES ", 1)
            self._head, self._values = head + " VALUES ", values
            self._per_statement = max(1, self.MAX_PARAMETERS // len(self.names))
            self._sql_for: dict[int, str] = {}

    def _converted(self, rows: list[dict]) -> list[tuple]:
        columns = []
        for name, process in self.processors:
            values = [row[name] for row in rows]
            columns.append(values if process is None else _each(process, values))
        return list(zip(*columns, strict=True))

    def execute(self, conn, rows: list[dict]) -> None:
        """Insert ``rows`` on the SQLAlchemy connection ``conn``."""
        converted = self._converted(rows)
        if not self.positional:
            conn.exec_driver_sql(
                self.sql, [dict(zip(self.names, values, strict=True)) for values in converted]
            )
            return
        step = self._per_statement
        for start in range(0, len(converted), step):
            chunk = converted[start : start + step]
            sql = self._sql_for.get(len(chunk))
            if sql is None:
                sql = self._sql_for[len(chunk)] = self._head + ", ".join(
                    [self._values] * len(chunk)
                )
            conn.exec_driver_sql(sql, tuple(value for values in chunk for value in values))


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
        self._comments = _PreparedInsert(Comment.__table__, COMMENT_FIELDS + _STAMPED, engine)
        self._history = _PreparedInsert(CommentHistory.__table__, _HISTORY_FIELDS, engine)

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
