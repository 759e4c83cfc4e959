"""Integration tests: real Redis, SQLite and PostgreSQL, one folder per top-level package."""
