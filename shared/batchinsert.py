"""Batch inserts compiled once: what the intake writer (shared.intake.rows) and the
importers (shared.imports.inserts) insert their rows with.

An INSERT is compiled once for a dialect and each value converted by its column type's own
bind processor: what SQLAlchemy does per row, without building its execution context per
row (a fifth of an import's CPU; on the intake's hot path, the same).
"""

from __future__ import annotations

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite

_UNSET = object()


def converted(process, values: list) -> list:
    """``process`` applied to each of ``values``, once per run of equal ones: a batch
    shares its timestamp, and most columns hold None or the same default in every row
    (bind processors are pure functions of the value). ``process`` None: ``values``."""
    if process is None:
        return values
    out = []
    last = last_out = _UNSET
    for value in values:
        if value is not last and not (type(value) is type(last) and value == last):
            last, last_out = value, process(value)
        out.append(last_out)
    return out


class PreparedInsert:
    """An INSERT of ``names`` into ``table`` compiled once for ``dialect``.

    ``conflict``: a key whose duplicates are skipped (``ON CONFLICT DO NOTHING``).
    ``multirow``: on a driver with positional parameters (SQLite), a batch is one
    multi-row statement instead of the driver's executemany, which steps once per row and
    lets go of the GIL at each step. In a process whose request threads all want the GIL
    back, every such hand-over can cost a whole switch interval (the intake writer's case).
    """

    # Bound parameters per statement: SQLite's historical limit, well below today's.
    MAX_PARAMETERS = 999

    def __init__(
        self,
        table: Table,
        names: tuple[str, ...],
        dialect,
        *,
        conflict: str | None = None,
        multirow: bool = False,
    ):
        if conflict and multirow:
            raise ValueError("a multi-row statement repeats its VALUES, not its ON CONFLICT")
        statement = insert(table)
        if conflict:
            module = postgresql if dialect.name == "postgresql" else sqlite
            statement = module.insert(table).on_conflict_do_nothing(index_elements=[conflict])
        compiled = statement.values({name: bindparam(name) for name in names}).compile(
            dialect=dialect
        )
        self.sql = str(compiled)
        self.positional = dialect.positional
        self.names = tuple(compiled.positiontup) if self.positional else names
        self.processors = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.names
        ]
        self.multirow = multirow and self.positional
        if self.multirow:
            head, values = self.sql.rsplit(" VALUES ", 1)
            self._head, self._values = head + " VALUES ", values
            self._per_statement = max(1, self.MAX_PARAMETERS // len(self.names))
            self._sql_for: dict[int, str] = {}

    def execute(self, conn, rows: list[dict]) -> None:
        """Insert ``rows`` (dicts holding at least ``names``) on the SQLAlchemy
        connection ``conn``."""
        columns = [
            converted(process, [row[name] for row in rows]) for name, process in self.processors
        ]
        values = list(zip(*columns, strict=True))
        if not self.positional:
            conn.exec_driver_sql(
                self.sql, [dict(zip(self.names, row, strict=True)) for row in values]
            )
        elif not self.multirow:
            conn.exec_driver_sql(self.sql, values)
        else:
            step = self._per_statement
            for start in range(0, len(values), step):
                chunk = values[start : start + step]
                sql = self._sql_for.get(len(chunk))
                if sql is None:
                    sql = self._sql_for[len(chunk)] = self._head + ", ".join(
                        [self._values] * len(chunk)
                    )
                conn.exec_driver_sql(sql, tuple(value for row in chunk for value in row))
