"""The Celery entrypoint imports in a fresh interpreter, as the worker and beat start it
(docker-compose.yml and the Procfile name ``workers.app``): an integration test, since it
starts a process."""

from __future__ import annotations

from tests.support.procs import probe


def test_celery_entrypoint_imports():
    probe("import workers.app, workers.tasks")
