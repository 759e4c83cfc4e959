"""Concurrency probes shared by tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def most_at_once(
    run: Callable[[Callable[[], None]], object], threads: int = 8, hold: float = 0.02
) -> int:
    """Start ``threads`` threads together, each calling ``run(check)``; ``check`` stays
    busy ``hold`` seconds. The most checks that were running at the same moment."""
    lock, inside, most = threading.Lock(), [0], [0]
    start = threading.Barrier(threads)

    def check() -> None:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(hold)
        with lock:
            inside[0] -= 1

    def go() -> None:
        start.wait()
        run(check)

    workers = [threading.Thread(target=go) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    return most[0]
