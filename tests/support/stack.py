"""A Parley stack for one end-to-end test, browser test or benchmark: a private Redis, the
Akismet-compatible server, gunicorn servers and Celery processes, started one by one and
all stopped together, in the reverse order, however the test or run ends.

    with Running(folder) as run:
        env = stack_env(sqlite_store(folder), run.redis())  # tests.support.procs, .stores
        api, url = run.gunicorn(API, env, "api")
        ...
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from shared.bootstrap import Container
from shared.config import load_settings
from tests.akismet_server import AkismetServer
from tests.support.procs import (
    ROOT,
    Proc,
    start_akismet,
    start_beat,
    start_deliver,
    start_gunicorn,
    start_redis,
    start_worker,
)

API = "services.api:create_app()"
DASHBOARD = "services.dashboard:create_app()"


class Running(ExitStack):
    """What a test or benchmark started, with its logs in ``folder``; each start registers
    the stop, and leaving the ``with`` block (or :meth:`close`) runs them newest first.

    Stopping twice is harmless: a test may stop or kill -9 a process itself earlier."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def keep(self, proc: Proc) -> Proc:
        """Stop ``proc`` with the rest."""
        self.callback(proc.stop)
        return proc

    def redis(self) -> str:
        """A private, throw-away Redis (:func:`~tests.support.procs.start_redis`); its URL."""
        proc, url = start_redis(self.folder)
        self.keep(proc)
        return url

    def akismet(self, **options) -> AkismetServer:
        """The Akismet-compatible server in this process's threads, for a test that changes
        its mode or reads its requests (``.set``, ``.requests_to``); ``.url`` is its URL."""
        server = AkismetServer(port=0, **options).start()
        self.callback(server.stop)
        return server

    def akismet_process(self, delay_ms: float = 0, name: str = "akismet") -> str:
        """The Akismet-compatible server as a process of its own (its own GIL, as the real
        service is remote), answering after ``delay_ms``; its URL."""
        proc, url = start_akismet(self.folder, delay_ms, name=name)
        self.keep(proc)
        return url

    def gunicorn(
        self, app: str, env: dict, name: str, workers: int | None = 2, root: Path = ROOT
    ) -> tuple[Proc, str]:
        """gunicorn with the production config, once it answers
        (:func:`~tests.support.procs.start_gunicorn`); the process and its URL."""
        proc, url = start_gunicorn(app, env, self.folder, name, workers=workers, root=root)
        self.keep(proc)
        return proc, url

    def worker(self, env: dict, name: str = "worker", concurrency: int = 16) -> Proc:
        """A Celery worker on every queue, thread pool."""
        return self.keep(start_worker(env, self.folder, name=name, concurrency=concurrency))

    def deliver(self, env: dict, name: str = "deliver", concurrency: int = 8) -> Proc:
        """The `deliver` process: webhook deliveries and mail."""
        return self.keep(start_deliver(env, self.folder, name=name, concurrency=concurrency))

    def beat(self, env: dict) -> Proc:
        """Celery beat, its schedule file in the folder."""
        return self.keep(start_beat(env, self.folder, self.folder / "beat-schedule"))

    def container(self, values: dict) -> Container:
        """A container on the settings ``values`` (those of :func:`stack_values`), for a
        test that looks at the stores and Redis of the processes from inside; closed with
        the rest."""
        container = Container(load_settings(values))
        self.callback(container.close)
        return container
