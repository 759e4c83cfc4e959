"""Integration tests of `workers/`."""
