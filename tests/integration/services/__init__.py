"""Integration tests of `services/`."""
