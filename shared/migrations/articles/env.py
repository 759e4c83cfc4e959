"""Alembic environment of the articles store (see shared/migrate.py)."""

from shared.migrate import run_migrations

run_migrations("articles")
