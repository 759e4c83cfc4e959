"""Unit tests of `cli/`."""
