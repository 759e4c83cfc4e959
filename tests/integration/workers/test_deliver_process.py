"""The `deliver` process (Procfile) stays lean: started on the webhooks and mail queues,
``workers.app`` loads those tasks only, not the checks' code, the classifier's
scientific stack nor a web framework (issue 24)."""

from __future__ import annotations

from tests.support.procs import probe

PROBE = """
import sys
sys.argv = ["celery", "--app", "workers.app", "worker", "--queues", "webhooks,mail"]
import workers.app
app = workers.app.app
app.loader.import_default_modules()
heavy = sorted(m for m in ("sklearn", "numpy", "scipy", "flask", "workers.tasks", "akismet")
               if m in sys.modules)
print(heavy, sorted(t for t in app.tasks if t.startswith("parley.")))
"""


def test_the_deliver_process_loads_only_its_tasks():
    heavy, tasks = probe(PROBE).strip().splitlines()[-1].split("] ", 1)
    assert heavy == "[", f"the deliver process imported {heavy}]"
    assert "parley.deliver_webhook" in tasks and "parley.check_comment" not in tasks
