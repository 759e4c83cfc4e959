"""Integration tests of `cli/`."""
