"""Batch inserts for the importers: each INSERT compiled once per dialect and run with
the driver's executemany (shared.imports.writer)."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring(engine, table, keys: list[str]):
    """An INSERT into ``table`` that skips rows whose ``keys`` are taken."""
    module = postgresql if engine.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=keys)


class _Prepared:
    """An INSERT of ``names`` into ``table`` compiled once for a dialect and run with the
    driver's executemany, each value converted by its column type's own bind processor
    (what SQLAlchemy does per row, without building its execution context per row: that
    was a fifth of an import's CPU). ``conflict``: the key whose duplicates are skipped."""

    def __init__(self, table, names: tuple[str, ...], dialect, conflict: str | None):
        module = postgresql if dialect.name == "postgresql" else sqlite
        statement = module.insert(table).values({name: bindparam(name) for name in names})
        if conflict:
            statement = statement.on_conflict_do_nothing(index_elements=[conflict])
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = dialect.positional
        self.names = tuple(compiled.positiontup) if self.positional else names
        self.processors = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.names
        ]

    def execute(self, conn, rows: list[dict]) -> None:
        columns = [
            _converted(process, [row[name] for row in rows]) for name, process in self.processors
        ]
        if self.positional:
            values = list(zip(*columns, strict=True))
        else:
            values = [dict(zip(self.names, row, strict=True)) for row in zip(*columns, strict=True)]
        conn.exec_driver_sql(self.sql, values)


_UNSET = object()


def _converted(process, values: list) -> list:
    """``process`` applied to each value, once per run of equal ones: a batch shares its
    time, and most columns hold None or the same default in every row (bind processors
    are pure functions of the value)."""
    if process is None:
        return values
    out = []
    last = last_out = _UNSET
    for value in values:
        if value is not last and not (type(value) is type(last) and value == last):
            last, last_out = value, process(value)
        out.append(last_out)
    return out


_PREPARED: dict[tuple, _Prepared] = {}


def insert_rows(conn, table, rows: list[dict], conflict: str | None = None) -> None:
    """Insert ``rows`` (dicts with the same keys) with a :class:`_Prepared` statement."""
    if not rows:
        return
    names = tuple(rows[0])
    key = (table.name, names, conn.dialect.name, conflict)
    prepared = _PREPARED.get(key)
    if prepared is None:
        prepared = _PREPARED[key] = _Prepared(table, names, conn.dialect, conflict)
    prepared.execute(conn, rows)
