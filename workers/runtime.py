"""The worker process's container: built on first use, once, thread-safely."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from shared.config import Settings
from shared.intake.pressure import Gate

if TYPE_CHECKING:
    from shared.bootstrap import Container

_lock = threading.Lock()
_settings: Settings | None = None
_container: Container | None = None
_gate: Gate | None = None


def configure(settings: Settings) -> None:
    global _settings
    _settings = settings


def container() -> Container:
    """The process-wide container (one Akismet client, one engine per store)."""
    global _container
    if _container is None:
        # Imported here: beat, which loads this module with workers.app and never runs a
        # task, does not load what the container builds.
        from shared.bootstrap import bootstrap

        with _lock:
            if _container is None:
                _container = bootstrap(_settings)
    return _container


def gate() -> Gate:
    """The process's gate for checks: intake first (shared.intake.pressure)."""
    global _gate
    if _gate is None:
        built = container()
        with _lock:
            if _gate is None:
                _gate = Gate(built.redis, built.settings.check_yield)
    return _gate


def reset() -> None:
    global _container, _gate
    with _lock:
        _gate = None
        if _container is not None:
            _container.after_fork()
        _container = None


def close() -> None:
    global _container, _gate
    with _lock:
        _gate = None
        if _container is not None:
            _container.close()
        _container = None
