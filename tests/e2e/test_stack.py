"""End to end: real gunicorn, celery worker and beat processes, HTTP only from outside."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa

from shared.models import PublishedComment
from tests.support import factories
from tests.support.factories import put_article, reader
from tests.support.procs import BIN, children, stack_env, wait_for
from tests.support.stack import API, DASHBOARD, Running
from tests.support.stores import sqlite_store

pytestmark = pytest.mark.e2e
TOKEN = "e2e-admin-token"
SLUG = "russia-ukraine-prisoner-exchange"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """api (gunicorn) + worker + beat on a fresh SQLite file and a private Redis, and the
    dashboard (gunicorn), where the admin API is."""
    tmp = tmp_path_factory.mktemp("stack")
    with Running(tmp) as run:
        db = sqlite_store(tmp)
        redis_url = run.redis()
        akismet = run.akismet()
        env = stack_env(
            db,
            redis_url,
            akismet.url,
            PARLEY_ADMIN_TOKEN=TOKEN,
            PARLEY_AKISMET_TIMEOUT="1",
            PARLEY_AKISMET_RETRIES="0",
            PARLEY_AKISMET_RECHECK_SECONDS="1",
            PARLEY_SWEEP_SECONDS="2",
            PARLEY_LEASE_SECONDS="5",
            PARLEY_HTTP_WORKERS="2",
        )
        api, url = run.gunicorn(API, env, "api")
        _, dashboard_url = run.gunicorn(DASHBOARD, env, "dashboard", workers=1)
        worker = run.worker(env)
        beat = run.beat(env)
        client = run.enter_context(httpx.Client(base_url=url, timeout=10))
        admin = run.enter_context(httpx.Client(base_url=dashboard_url, timeout=10))
        response = put_article(
            admin,
            SLUG,
            TOKEN,
            title="Russia-Ukraine Prisoner Exchange: Peace Talks Breakthrough",
            url=f"{url}/articles/{SLUG}",
            comments_open=True,
        )
        assert response.status_code in (200, 201)
        yield {
            "client": client,
            "admin": admin,
            "akismet": akismet,
            "db": db,
            "env": env,
            "run": run,
            "procs": [api, worker, beat],
        }


def submit(client, content, **extra):
    """A comment on the article by a reader of its own (tests.support.factories.reader):
    without the commenter cookie an earlier post left in the shared client, which would
    make every comment one reader's, with that reader's record (a spam test's spam)."""
    client.cookies.clear()
    return factories.submit(client, SLUG, **reader(content, **extra))


def public_status(client, cid):
    return client.get(f"/api/v1/comments/{cid}").json()["status"]


def test_form_post_is_303_and_page_shows_pending_notice(stack):
    client = stack["client"]
    page = client.get(f"/articles/{SLUG}")
    assert page.status_code == 200 and "Peace Talks Breakthrough" in page.text
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"/api/v1/articles/{SLUG}/comments",
        data={
            "author_name": "Form Reader",
            "author_email": "form@example.org",
            "content": "Posted from the plain HTML form.",
            "form_token": token,
            "website": "",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/articles/{SLUG}#comment-pending")


def test_ham_is_published_and_visible(stack):
    client = stack["client"]
    cid = submit(client, "A thoughtful note about the prisoner exchange in Istanbul.")
    wait_for(lambda: public_status(client, cid) == "published", 20, "the comment to be published")
    listed = client.get(f"/api/v1/articles/{SLUG}/comments?limit=100").json()["comments"]
    assert cid in [c["id"] for c in listed]
    assert "A thoughtful note about the prisoner exchange" in client.get(f"/articles/{SLUG}").text


def test_spam_is_never_public(stack):
    client = stack["client"]
    cid = submit(client, "totally legit", author_email="akismet-guaranteed-spam@example.com")
    other = submit(client, "A comment sent after the spam one, as a marker.")
    wait_for(lambda: public_status(client, other) == "published", 20, "the marker comment")
    time.sleep(0.5)
    assert public_status(client, cid) == "pending"
    listed = client.get(f"/api/v1/articles/{SLUG}/comments?limit=100").json()["comments"]
    assert cid not in [c["id"] for c in listed]
    record = (
        stack["admin"]
        .get(f"/api/v1/admin/comments/{cid}", headers={"Authorization": f"Bearer {TOKEN}"})
        .json()
    )
    assert record["status"] == "spam" and record["akismet"]["verdict"] == "spam"


def test_akismet_outage_holds_then_publishes_after_recovery(stack):
    client, akismet, dashboard = stack["client"], stack["akismet"], stack["admin"]
    akismet.set(mode="error503")
    try:
        cid = submit(client, "Written while Akismet was down.")
        admin = {"Authorization": f"Bearer {TOKEN}"}
        wait_for(
            lambda: (
                dashboard.get(f"/api/v1/admin/comments/{cid}", headers=admin).json()["status"]
                == "held"
            ),
            20,
            "the comment to be held",
        )
        record = dashboard.get(f"/api/v1/admin/comments/{cid}", headers=admin).json()
        assert record["akismet"]["verdict"] == "error"
        time.sleep(1.5)
        assert public_status(client, cid) == "pending"
    finally:
        akismet.set(mode="normal")
    # beat queues the recheck (every second here); a real "false" publishes it
    wait_for(lambda: public_status(client, cid) == "published", 30, "the recheck to publish")
    record = dashboard.get(f"/api/v1/admin/comments/{cid}", headers=admin).json()
    assert record["akismet"]["verdict"] == "ham" and record["akismet"]["rechecks"] >= 1


def test_kill_9_worker_mid_batch_loses_nothing_and_publishes_once(stack):
    client, env = stack["client"], stack["env"]
    stack["akismet"].set(delay_ms=20)
    api, worker, beat = stack["procs"]
    engine = sa.create_engine(stack["db"])
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM comments")).scalar()
    # distinct texts: comments that differ only by a number are a spam wave to the heuristics
    ids = [submit(client, f"Batch comment {uuid.uuid4().hex} on the exchange.") for _ in range(500)]

    def final_count():
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT count(*) FROM comments WHERE status IN ('published','held','spam','discarded')"
                )
            ).scalar()

    wait_for(lambda: final_count() >= before + 100, 60, "the worker to get going")
    worker.kill9()
    stranded = 0
    with engine.connect() as conn:
        stranded = conn.execute(
            sa.text("SELECT count(*) FROM comments WHERE status = 'checking'")
        ).scalar()
    stack["procs"][1] = stack["run"].worker(env, name="worker2")
    total = wait_for(
        lambda: (n := final_count()) >= before + len(ids) and n,
        120,
        "every comment to reach a final state",
        interval=0.5,
    )
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.text(
                    "SELECT status, count(*) FROM comments WHERE id IN :ids GROUP BY status"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": ids},
            ).all()
        )
        published = conn.execute(sa.select(PublishedComment.id)).scalars().all()
        published_here = conn.execute(
            sa.text("SELECT count(*) FROM comments WHERE status='published'")
        ).scalar()
    engine.dispose()
    assert sum(statuses.values()) == 500 and set(statuses) <= {
        "published",
        "held",
        "spam",
        "discarded",
    }
    assert statuses.get("published") == 500
    assert len(published) == len(set(published)) == published_here
    print(
        f"kill -9 test: {stranded} comments were mid-check when the worker died; total final {total}"
    )


def _writer_pids(api) -> list[int]:
    """The api processes that became the host's intake writer, in order (from the log)."""
    pids = []
    for line in api.log().splitlines():
        if "intake writer" in line and line.startswith("{"):
            entry = json.loads(line)
            if entry["message"] == "this process is now the host's intake writer":
                pids.append(entry["pid"])
    return pids


def test_the_intake_writer_is_forked_from_the_api_master_sharing_its_pages(stack):
    api = stack["procs"][0]
    submit(stack["client"], f"Who writes this one? {uuid.uuid4().hex}")
    writer = _writer_pids(api)[-1]
    master = api.popen.pid
    # The master forks it before its workers, from the app it preloaded.
    assert writer in children(master)
    assert "the api master started the host's intake writer" in api.log()
    with open(f"/proc/{writer}/smaps_rollup") as rollup:
        shared = sum(int(line.split()[1]) for line in rollup if line.startswith("Shared_"))
    assert shared > 20 * 1024, f"{shared} KiB shared"  # started afresh it shares ~0
    # The workers may each keep to one CPU (PARLEY_HTTP_CPU_AFFINITY); the writer keeps
    # the server's CPUs, so its work goes where there is room.
    assert os.sched_getaffinity(writer) == os.sched_getaffinity(master)


def test_the_api_starts_the_intake_writer_before_the_first_comment(tmp_path, stack):
    # A writer process takes about a second to start; the api's workers start it as they
    # boot, not when the first reader posts.
    redis_url = stack["env"]["PARLEY_REDIS_URL"]
    with Running(tmp_path) as run:
        api, _ = run.gunicorn(API, stack_env(sqlite_store(tmp_path), redis_url), "api")
        wait_for(lambda: _writer_pids(api), 30, "the intake writer, with no comment posted")


def test_kill_9_of_the_intake_writer_elects_another_and_loses_nothing(stack):
    api = stack["procs"][0]
    url = str(stack["client"].base_url)
    submit(stack["client"], f"Before the writer dies {uuid.uuid4().hex}.")
    writer = _writer_pids(api)[-1]
    os.kill(writer, signal.SIGKILL)
    ids = []
    for n in range(30):
        # A fresh connection each time: the killed process held some of them.
        with httpx.Client(base_url=url, timeout=10) as client:
            ids.append(submit(client, f"After the writer died, comment {n} {uuid.uuid4().hex}."))
    wait_for(lambda: _writer_pids(api)[-1] != writer, 10, "a new writer to be logged")
    # The new one was elected by a worker, which started it afresh.
    assert _writer_pids(api)[-1] not in children(api.popen.pid)
    engine = sa.create_engine(stack["db"])
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT count(*) FROM comments WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).scalar()
    engine.dispose()
    assert stored == 30


def test_a_second_server_on_a_busy_port_refuses_to_start(stack):
    # Each gunicorn worker binds its own SO_REUSEPORT socket; without the start-up check a
    # second server would bind beside the first and silently take half its connections.
    port = httpx.URL(str(stack["client"].base_url)).port
    second = subprocess.run(
        [
            str(BIN / "gunicorn"),
            "--config",
            "services/gunicorn_conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "services.api:create_app()",
        ],
        env=stack["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    assert stack["client"].get("/healthz").status_code == 200
