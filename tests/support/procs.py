"""Real processes for end-to-end tests: gunicorn, celery worker and beat, on free ports.

Every process is started with an explicit environment, waited for with a bounded poll,
and always stopped (SIGTERM, then SIGKILL) when the test ends.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
BIN = Path(sys.executable).parent


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the test process dies, so no worker outlives a killed
    test run and consumes the next run's messages."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


class Proc:
    """One child process with its log file."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path, cwd: Path = ROOT):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 20) -> int | None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(10)
        self._log.close()
        return self.popen.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name: state, parent, …
    (``proc(5)`` numbers them from 3). Raises OSError if the process is gone."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def _parents() -> dict[int, int]:
    """Each live process's parent, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[int(entry)] = int(stat_fields(int(entry))[1])
            except OSError:
                continue  # gone meanwhile
    return found


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (a gunicorn master's workers)."""
    return [child for child, parent in _parents().items() if parent == pid]


def descendants(pid: int) -> list[int]:
    """The live processes below ``pid``: a gunicorn master's workers and the intake writer
    process one of them started."""
    parents = _parents()
    found, level = [], [pid]
    while level:
        level = [child for child, parent in parents.items() if parent in level]
        found += level
    return found


def base_env(**values) -> dict:
    """This environment without Parley's settings or a metrics directory (none is
    inherited, as in the Makefile), then ``values``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PARLEY_", "PYTHON_AKISMET_")) and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update({k: str(v) for k, v in values.items()})
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    return env


def probe(code: str, timeout: float = 60, **values) -> str:
    """Run ``code`` in a fresh interpreter from the repository's root, with
    :func:`base_env`'s environment and ``values``, as a process of the stack would start;
    its standard output. Fails with the end of its standard error if it does not exit
    with 0."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=base_env(**values),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _answering(proc: Proc, url: str, path: str) -> str:
    """``url`` once ``proc`` answers GET ``path`` with 200; stops it and fails otherwise."""
    try:
        wait_for(
            lambda: httpx.get(url + path, timeout=1).status_code == 200,
            30,
            f"{proc.name} to answer",
        )
    except AssertionError:
        proc.stop()
        raise AssertionError(f"{proc.name} did not start:\n{proc.log()[-3000:]}") from None
    return url


def start_gunicorn(
    app: str, env: dict, log_dir: Path, name: str, workers: int | None = 2, root: Path = ROOT
) -> tuple[Proc, str]:
    """gunicorn with the production config; ``workers=None`` keeps its process count.

    ``root`` is the checkout whose code it serves. gunicorn puts the directory it starts
    in first on the import path, so that is what decides, whatever else is installed."""
    port = free_port()
    proc = Proc(
        name,
        [
            str(BIN / "gunicorn"),
            "--config",
            "services/gunicorn_conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            *(["--workers", str(workers)] if workers else []),
            app,
        ],
        env,
        log_dir,
        cwd=root,
    )
    return proc, _answering(proc, f"http://127.0.0.1:{port}", "/healthz")


def _celery_worker(env: dict, log_dir: Path, name: str, concurrency: int, queues: str) -> Proc:
    """A Celery worker (thread pool) on ``queues``, named ``name``, as the Procfile starts one."""
    return Proc(
        name,
        [
            str(BIN / "celery"),
            "--app",
            "workers.app",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--queues",
            queues,
            "--hostname",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        env,
        log_dir,
    )


def start_worker(env: dict, log_dir: Path, name: str = "worker", concurrency: int = 16) -> Proc:
    return _celery_worker(env, log_dir, name, concurrency, "checks,publish,feedback,maintenance")


def start_deliver(env: dict, log_dir: Path, name: str = "deliver", concurrency: int = 8) -> Proc:
    """The `deliver` process of the Procfile: a Celery worker of the webhooks and mail
    queues only."""
    return _celery_worker(env, log_dir, name, concurrency, "webhooks,mail")


def start_beat(env: dict, log_dir: Path, schedule: Path) -> Proc:
    return Proc(
        "beat",
        [
            str(BIN / "celery"),
            "--app",
            "workers.app",
            "beat",
            "--schedule",
            str(schedule),
            "--loglevel",
            "INFO",
        ],
        env,
        log_dir,
    )


def start_akismet(log_dir: Path, delay_ms: float = 0, name: str = "akismet") -> tuple[Proc, str]:
    """The Akismet-compatible server as a process of its own (its own GIL and CPU time,
    as the real service has), on a free port; returns it and its base URL."""
    port = free_port()
    proc = Proc(
        name,
        [
            sys.executable,
            "-m",
            "tests.akismet_server",
            "--port",
            str(port),
            "--delay-ms",
            str(delay_ms),
        ],
        base_env(),
        log_dir,
    )
    return proc, _answering(proc, f"http://127.0.0.1:{port}", "/_control")


def start_redis(log_dir: Path) -> tuple[Proc, str]:
    """A private, throw-away Redis for one test module or benchmark: concurrent runs on
    this machine cannot consume each other's messages."""
    port = free_port()
    proc = Proc(
        f"redis-{port}",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(log_dir),
        ],
        base_env(),
        log_dir,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def pong() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    wait_for(pong, 10, "the private Redis")
    return proc, url


def stack_values(db: str, redis_url: str, akismet_url: str | None = None, **extra) -> dict:
    """The Parley settings of a process under test: one SQLite file for both stores, the
    given Redis, the Akismet-compatible server (if any), no rate limits."""
    values = dict(
        PARLEY_DATABASE_URL=db,
        PARLEY_REDIS_URL=redis_url,
        PARLEY_SECRET_KEY="e2e-secret",
        PARLEY_RATE_LIMIT="off",
        PARLEY_FLOOD_SECONDS="0",
    )
    if akismet_url:
        values.update(
            PYTHON_AKISMET_API_KEY="test-key",
            PYTHON_AKISMET_BLOG_URL="https://news.example",
            PARLEY_AKISMET_API_URL=akismet_url,
        )
    values.update(extra)
    return values


def stack_env(db: str, redis_url: str, akismet_url: str | None = None, **extra) -> dict:
    """The whole environment of a Parley process under test: :func:`stack_values`."""
    return base_env(**stack_values(db, redis_url, akismet_url, **extra))
