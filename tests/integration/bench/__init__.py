"""Integration tests of `bench/`."""
