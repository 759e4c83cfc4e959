"""The Celery entrypoint imports in a fresh interpreter, as the worker and beat start it
(docker-compose.yml and the Procfile name ``workers.app``): an integration test, since it
starts a process."""

from __future__ import annotations

import subprocess
import sys

from tests.support.paths import REPO_ROOT
from tests.support.procs import base_env

ROOT = REPO_ROOT


def test_celery_entrypoint_imports():
    result = subprocess.run(
        [sys.executable, "-c", "import workers.app, workers.tasks"],
        cwd=ROOT,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
