"""Beat sends tasks by name and runs none, so it loads none of their code: not the task
modules, nor through them the models, the rules, the Akismet client or SQLAlchemy
(issue 24: beat was 83 MiB of PSS with them, the largest process of ``make run`` but the
worker). The worker still loads every task module. Fresh interpreters, as the Procfile
starts them."""

from __future__ import annotations

import json

from tests.support.procs import probe

PROBE = """
import json, sys
sys.argv = ["celery", {role!r}]
import workers.app
heavy = ("workers.tasks", "sqlalchemy", "akismet", "httpx", "shared.moderation.rules",
         "shared.bootstrap", "flask")
print(json.dumps({{"include": list(workers.app.app.conf.include),
                  "loaded": [m for m in heavy if m in sys.modules],
                  "schedule": sorted(workers.app.app.conf.beat_schedule)}}))
"""


def _probe(role: str) -> dict:
    return json.loads(probe(PROBE.format(role=role)))


def test_beat_loads_no_task_code():
    beat = _probe("beat")
    assert beat["include"] == []
    assert beat["loaded"] == []
    assert {"sweep", "akismet-recheck", "purge", "relay-events"} <= set(beat["schedule"])


def test_the_worker_loads_every_task_module():
    worker = _probe("worker")
    assert "workers.tasks" in worker["include"]
    assert worker["schedule"] == _probe("beat")["schedule"]
