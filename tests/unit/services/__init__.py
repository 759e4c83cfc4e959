"""Unit tests of `services/`."""
