"""Once the worker is ready, its start-up heap is out of the collector's way: a full
collection no longer scans the code, the app and the container (workers/app.py,
``_freeze_heap``; it held the worker's interpreter for 100-170 ms while a check held the
store's write lock). A fresh interpreter, as the Procfile starts the worker."""

from __future__ import annotations

import json

from tests.support.procs import probe

PROBE = """
import gc, json, sys
sys.argv = ["celery", "worker"]
from celery.signals import worker_ready
import workers.app, workers.tasks
receivers = [ref().__name__ for _, ref in worker_ready.receivers if ref() is not None]
tracked = len(gc.get_objects())
workers.app._freeze_heap()
print(json.dumps({"receivers": receivers, "tracked": tracked,
                  "frozen": gc.get_freeze_count(), "left": len(gc.get_objects())}))
"""


def test_the_worker_freezes_its_start_up_heap_once_ready():
    found = json.loads(probe(PROBE))
    # After the heartbeat's hook, which builds the container that the freeze should cover.
    assert found["receivers"].index("_freeze_heap") > found["receivers"].index("_start_heartbeat")
    assert found["tracked"] > 50_000  # the code and the app: what a collection would scan
    assert found["frozen"] >= found["tracked"]
    assert found["left"] < found["tracked"] / 100
