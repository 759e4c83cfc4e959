"""Batch inserts for the importers (shared.imports.writer): each INSERT compiled once per
dialect (shared.batchinsert) and run with the driver's executemany."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from shared.batchinsert import PreparedInsert


def insert_ignoring(engine, table, keys: list[str]):
    """An INSERT into ``table`` that skips rows whose ``keys`` are taken."""
    module = postgresql if engine.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=keys)


_PREPARED: dict[tuple, PreparedInsert] = {}


def insert_rows(conn, table, rows: list[dict], conflict: str | None = None) -> None:
    """Insert ``rows`` (dicts with the same keys) with a statement compiled once per
    table, columns, dialect and conflict key."""
    if not rows:
        return
    names = tuple(rows[0])
    key = (table.name, names, conn.dialect.name, conflict)
    prepared = _PREPARED.get(key)
    if prepared is None:
        prepared = _PREPARED[key] = PreparedInsert(table, names, conn.dialect, conflict=conflict)
    prepared.execute(conn, rows)
