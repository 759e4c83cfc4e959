"""``make run``'s supervisor (scripts/supervise): a crashed process comes back, the others
stay up, and Ctrl-C or SIGTERM still stops everything.

The first test runs the real Procfile as ``make run`` does (in a folder of its own, so the
beat schedule in ``var/`` is the test's): every program is forked from the supervisor,
which loaded the modules they share, and their pages are shared with it. It kills the
worker with SIGKILL and checks that a new worker, forked again, checks comments while api,
dashboard and beat keep their pids; Ctrl-C then stops all four within the grace period.
The others use small Procfiles of shell commands, which run under ``/bin/sh``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from importlib.machinery import SourceFileLoader
from pathlib import Path

import httpx
import pytest
import redis as redis_lib

from shared.articles import upsert_article
from shared.bootstrap import Container
from shared.config import load_settings
from shared.db import session_scope
from shared.migrate import upgrade
from shared.ops import heartbeat
from tests.support.factories import status_of, submit
from tests.support.procs import (
    BIN,
    ROOT,
    Proc,
    base_env,
    descendants,
    free_port,
    probe,
    stack_values,
    start_redis,
    stat_fields,
    wait_for,
)

pytestmark = pytest.mark.e2e

SUPERVISE = ROOT / "scripts" / "supervise"
FINAL = ("published", "held", "spam", "discarded")
SLUG = "supervised"


def supervise(folder: Path, env: dict, procfile: Path, *args: str) -> Proc:
    return Proc(
        "supervise",
        [str(BIN / "python"), str(SUPERVISE), str(procfile), *args],
        env,
        folder,
        cwd=folder,
    )


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def shared_mib(pid: int) -> float:
    """The memory ``pid`` shares with other processes (its pages of a parent's, mostly)."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return sum(int(line.split()[1]) / 1024 for line in rollup if line.startswith("Shared_"))


def programs(supervisor: Proc) -> dict[str, int]:
    """The pid of each Procfile process's program (below ``sh -c``), by its name."""
    found = {}
    for pid in descendants(supervisor.popen.pid):
        line = cmdline(pid)
        for name, marker in (
            ("api", "services.api:create_app()"),
            ("dashboard", "services.dashboard:create_app()"),
            ("worker", "--queues checks"),  # not the deliver process, a worker too
            ("beat", "workers.app beat"),
        ):
            # The program, not the shell that runs it nor a gunicorn worker (its parent
            # would be the master, which matches too).
            if marker in line and not line.startswith("/bin/sh") and name not in found:
                found[name] = pid
    return found


@pytest.mark.timeout(180)  # four real processes started twice over, and a warm shutdown
def test_a_killed_worker_comes_back_and_ctrl_c_stops_all(tmp_path):
    db = f"sqlite:///{tmp_path}/parley.db"
    upgrade(db, db)
    redis_proc, redis_url = start_redis(tmp_path)
    api_port, dashboard_port = free_port(), free_port()
    values = stack_values(
        db,
        redis_url,
        PARLEY_API_BIND=f"127.0.0.1:{api_port}",
        PARLEY_DASHBOARD_BIND=f"127.0.0.1:{dashboard_port}",
        PARLEY_WORKER_CONCURRENCY="4",
        PARLEY_HTTP_WORKERS="1",
    )
    container = Container(load_settings(values))
    with session_scope(container.stores.articles) as session:
        upsert_article(
            session,
            SLUG,
            {"title": "Supervised", "url": "https://news.example/s", "comments_open": True},
        )
    (tmp_path / "var").mkdir()
    (tmp_path / "services").symlink_to(ROOT / "services")  # the Procfile's gunicorn config
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = base_env(**values, PROMETHEUS_MULTIPROC_DIR=metrics)  # as make run sets it
    redis = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    api = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=5)
    supervisor = supervise(tmp_path, env, ROOT / "Procfile")
    try:
        for port in (api_port, dashboard_port):
            wait_for(
                lambda port=port: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200,
                60,
                f"the server on {port}",
            )
        before = wait_for(lambda: len(p := programs(supervisor)) == 4 and p, 30, "4 programs")
        for name, pid in before.items():
            # Forked from the supervisor (no shell between), sharing the modules it loaded.
            assert int(stat_fields(pid)[1]) == supervisor.popen.pid, (name, cmdline(pid))
            assert shared_mib(pid) > 30, (name, shared_mib(pid))
        assert "not preloaded" not in supervisor.log(), supervisor.log()[-3000:]
        wait_for(lambda: any(w["alive"] for w in heartbeat.workers(redis)), 30, "a heartbeat")
        first = submit(api, SLUG)
        wait_for(lambda: status_of(container, first) in FINAL, 30, "a first decision")

        os.kill(before["worker"], signal.SIGKILL)
        after = wait_for(
            lambda: (p := programs(supervisor)).get("worker") not in (None, before["worker"]) and p,
            30,
            f"a new worker:\n{supervisor.log()[-3000:]}",
        )
        assert {name: after.get(name) for name in ("api", "dashboard", "beat")} == {
            name: before[name] for name in ("api", "dashboard", "beat")
        }, supervisor.log()[-3000:]
        assert int(stat_fields(after["worker"])[1]) == supervisor.popen.pid
        second = submit(api, SLUG, content="The second round of talks opens in Geneva.")
        wait_for(lambda: status_of(container, second) in FINAL, 45, "the new worker's decision")
        assert supervisor.alive()
        assert "restarting worker" in supervisor.log()

        # The intake writer, forked from the api's master (services/intake_writer.py).
        writers = [
            pid
            for pid in descendants(supervisor.popen.pid)
            if "services.intake_writer" in cmdline(pid)
        ]
        assert [int(stat_fields(pid)[1]) for pid in writers] == [after["api"]], writers

        supervisor.popen.send_signal(signal.SIGINT)  # Ctrl-C: the terminal signals us only
        assert supervisor.popen.wait(60) == 130, supervisor.log()[-3000:]
        left = [pid for pid in [*after.values(), *writers] if cmdline(pid)]
        assert not left, f"still running: {[cmdline(pid) for pid in left]}"
        log = supervisor.log()
        assert "all processes stopped" in log and "SIGKILL" not in log, log[-3000:]
        assert "Warm shutdown" in log  # the worker stopped as docker stop would stop it
    finally:
        supervisor.stop(60)
        api.close()
        redis.close()
        container.close()
        redis_proc.stop()


def test_sigterm_stops_every_process_group(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "one: exec sleep 600\n"
        # a compound line: sh stays, and the program below it must be stopped too
        "two: sleep 600; echo never\n"
    )
    supervisor = supervise(tmp_path, base_env(), procfile)
    try:
        sleepers = wait_for(
            lambda: (
                len(
                    p := [
                        d
                        for d in descendants(supervisor.popen.pid)
                        if cmdline(d).startswith("sleep ")
                    ]
                )
                == 2
                and p
            ),
            10,
            "two sleeps",
        )
        supervisor.popen.send_signal(signal.SIGTERM)
        assert supervisor.popen.wait(20) == 143, supervisor.log()
        assert not [pid for pid in sleepers if cmdline(pid)]
        assert "never" not in supervisor.log()
    finally:
        supervisor.stop()


@pytest.mark.timeout(60)
def test_a_process_that_cannot_start_stops_the_run(tmp_path):
    """Dying young five times in a row (a port in use, a bad setting) stops everything, as
    honcho did at once, instead of restarting it for ever."""
    procfile = tmp_path / "Procfile"
    procfile.write_text("ok: exec sleep 600\nbroken: echo no such setting; exit 2\n")
    supervisor = supervise(tmp_path, base_env(), procfile)
    started = time.monotonic()
    try:
        assert supervisor.popen.wait(40) == 1, supervisor.log()
        log = supervisor.log()
        assert log.count("broken started") == 5 and "stopping all" in log, log
        assert time.monotonic() - started > 10  # it did wait between the attempts
    finally:
        supervisor.stop()


def _launcher():
    """scripts/supervise's Launcher, loaded without preloading, knowing gunicorn and
    celery as this environment's console scripts."""
    spec = importlib.util.spec_from_loader(
        "supervise", SourceFileLoader("supervise", str(SUPERVISE))
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    launcher = module.Launcher(module.Output(["x"]), preload=False)
    launcher.scripts = {str(BIN / name): name for name in ("gunicorn", "celery")}
    return launcher


def test_a_line_is_forked_only_when_it_plainly_runs_a_script_of_this_environment():
    launcher = _launcher()
    env = base_env(PARLEY_API_BIND="0.0.0.0:9000")
    api = (ROOT / "Procfile").read_text().splitlines()[0].split(": ", 1)[1]
    assert launcher.argv(api, env) == [
        str(BIN / "gunicorn"),
        "--config",
        "services/gunicorn_conf.py",
        "--bind",
        "0.0.0.0:9000",  # ${PARLEY_API_BIND:-...} expanded as sh would
        "services.api:create_app()",  # quotes removed as sh would
    ]
    assert launcher.argv("celery --app 'a b' worker", base_env())[1:] == ["--app", "a b", "worker"]
    for command in (
        "gunicorn x && echo done",  # an operator: the shell runs it
        "gunicorn x 2>&1",
        "gunicorn $(echo x)",
        "gunicorn `echo x`",
        "exec gunicorn x",
        "FOO=1 gunicorn x",
        "sleep 600",  # not a script of this environment
        "gunicorn 'unbalanced",
    ):
        assert launcher.argv(command, base_env()) is None, command


def test_the_preloaded_modules_load_without_a_thread_or_a_connection(tmp_path):
    """What the supervisor imports before forking: every module is there, and none starts
    a thread (forking copies no thread, only the locks it held)."""
    check = (
        "import importlib.util, threading, socket\n"
        "from importlib.machinery import SourceFileLoader\n"
        f"loader = SourceFileLoader('supervise', {str(SUPERVISE)!r})\n"
        "m = importlib.util.module_from_spec(importlib.util.spec_from_loader('supervise', loader))\n"
        "loader.exec_module(m)\n"
        "def refuse(*a, **k): raise AssertionError('connected at import')\n"
        "socket.socket.connect = refuse\n"
        "print(m.preload_modules(m.Output(['x'])), threading.active_count())\n"
        "import sys; print('psycopg' in sys.modules)\n"
    )
    out = probe(  # PostgreSQL's driver is loaded too for a PostgreSQL store
        check,
        PROMETHEUS_MULTIPROC_DIR=tmp_path,
        PARLEY_DATABASE_URL="postgresql://nobody@127.0.0.1/x",
    )
    assert "not preloaded" not in out, out
    assert out.splitlines()[-2:] == ["True 1", "True"], out
