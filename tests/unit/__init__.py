"""Unit tests: no I/O (tests/unit/conftest.py shuts every door), one folder per top-level package."""
