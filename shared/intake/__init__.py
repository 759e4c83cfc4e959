"""Intake: a comment from validated fields to a committed row and a queued check.

``submit`` is what the api calls; the other modules are the group-commit writer that
stores many requests' rows in one transaction (see docs/architecture.md)."""
