"""Integration tests of `shared/`."""
