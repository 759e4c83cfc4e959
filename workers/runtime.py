"""The worker process's container: built on first use, once, thread-safely."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from shared.config import Settings

if TYPE_CHECKING:
    from shared.bootstrap import Container

_lock = threading.Lock()
_settings: Settings | None = None
_container: Container | None = None


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


def reset() -> None:
    global _container
    with _lock:
        if _container is not None:
            _container.after_fork()
        _container = None


def close() -> None:
    global _container
    with _lock:
        if _container is not None:
            _container.close()
        _container = None
