"""Each process's copy of the site's newest model, refreshed at most every minute.

Like :class:`shared.moderation.context.PolicyCache`: a check asks for the model inside
the read session it already holds; at most every :data:`REFRESH_SECONDS` that costs one
``SELECT max(version)``, and the weights are loaded only when the version changed. So
every worker, on any host, scores with the version beat trained last within a minute of
it being stored. A version that cannot be loaded (tampered, or of a newer format) is
logged and the previous model stays in use.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shared.classifier import store

if TYPE_CHECKING:
    from shared.classifier.model import Model

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60.0


class ModelCache:
    """The newest stored model, or None before the first."""

    def __init__(self, ttl: float = REFRESH_SECONDS):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._checked_at = -1e9
        self._model: Model | None = None
        self._version: int | None = None  # the newest version seen, loaded or not

    def invalidate(self) -> None:
        """Look again at the next :meth:`get` (tests; ``parley`` commands)."""
        self._checked_at = -1e9

    def get(self, session: Session) -> Model | None:
        with self._lock:
            if time.monotonic() - self._checked_at > self.ttl:
                self._checked_at = time.monotonic()
                self._refresh(session)
            return self._model

    def _refresh(self, session: Session) -> None:
        version = store.latest_version(session)
        if version == self._version:
            return
        self._version = version
        if version is None:
            self._model = None
            return
        from shared.classifier.codec import CorruptModel

        try:
            self._model = store.load_model(session, version)
        except CorruptModel as exc:
            log.error(
                "classifier model refused; the previous one stays in use",
                extra={"version": version, "error": str(exc)},
            )
