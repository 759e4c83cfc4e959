"""The ``parley`` command: one process kind, a thin adapter over ``shared``."""
