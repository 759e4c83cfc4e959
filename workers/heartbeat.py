"""The worker's heartbeat: ``parley:worker:<hostname>`` in Redis, refreshed every 10 s.

Compose's health check (``parley worker-health``), the ops page and the
``parley_workers_alive`` gauge read it. A thread rather than a Celery timer so that a worker
whose pool is saturated still reports itself alive and how busy it is.
"""

from __future__ import annotations

import logging
import threading

from shared.ops.heartbeat import HEARTBEAT_SECONDS, clear_heartbeat, write_heartbeat

log = logging.getLogger(__name__)


class Heartbeat:
    """Writes the heartbeat of worker ``name`` until :meth:`stop`."""

    def __init__(self, name: str, redis, active=lambda: 0, interval: float = HEARTBEAT_SECONDS):
        self.name = name
        self.redis = redis
        self.active = active
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parley-heartbeat", daemon=True)
        self._failing = False

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> bool:
        """Write one heartbeat; a Redis outage is logged once, not every 10 s."""
        try:
            write_heartbeat(self.redis, self.name, self.active())
        except Exception as exc:
            if not self._failing:
                log.warning(
                    "heartbeat not written; Redis unreachable",
                    extra={"worker": self.name, "error": str(exc)},
                )
            self._failing = True
            return False
        if self._failing:
            log.info("heartbeat written again", extra={"worker": self.name})
        self._failing = False
        return True

    def _run(self) -> None:
        self.beat()
        while not self._stop.wait(self.interval):
            self.beat()

    def stop(self) -> None:
        """Stop beating and withdraw the heartbeat: the worker is leaving on purpose."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            clear_heartbeat(self.redis, self.name)
        except Exception as exc:
            log.debug("heartbeat not withdrawn", extra={"worker": self.name, "error": str(exc)})
