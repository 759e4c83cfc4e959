"""Alembic environment of the moderation store (see shared/migrate.py)."""

from shared.migrate import run_migrations

run_migrations("moderation")
