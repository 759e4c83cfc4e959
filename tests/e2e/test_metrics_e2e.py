"""/metrics aggregates every process: a gunicorn api (2 workers) and a Celery worker write
their counters to one PROMETHEUS_MULTIPROC_DIR, and a third process serves the sum.

Also follows one request id from the HTTP request into the worker's JSON log lines.
"""

from __future__ import annotations

import json

import httpx
import pytest

from shared.migrate import upgrade
from tests.akismet_server import AkismetServer
from tests.support.metrics import REMARKS, SUBMIT_RULE, samples_of, value
from tests.support.procs import stack_env, start_gunicorn, start_redis, start_worker, wait_for

pytestmark = pytest.mark.e2e

TOKEN = "e2e-admin-token"
SLUG = "metrics-drill"


def scrape(url: str) -> dict[tuple, float]:
    response = httpx.get(url + "/metrics", timeout=10)
    assert response.status_code == 200
    return samples_of(response.text)


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_metrics_aggregate_api_and_worker_processes(tmp_path):
    db = f"sqlite:///{tmp_path}/p.db"
    upgrade(db, db)
    redis_proc, redis_url = start_redis(tmp_path)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    akismet = AkismetServer(port=0).start()
    env = stack_env(
        db, redis_url, akismet.url, PARLEY_ADMIN_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=metrics_dir
    )
    procs = []
    try:
        api, api_url = start_gunicorn("services.api:create_app()", env, tmp_path, "api", workers=2)
        procs.append(api)
        worker = start_worker(env, tmp_path, name="metrics", concurrency=4)
        procs.append(worker)
        # The dashboard serves the sum, and the admin API (docs/contract.md §1).
        scraper, metrics_url = start_gunicorn(
            "services.dashboard:create_app()", env, tmp_path, "dashboard", workers=1
        )
        procs.append(scraper)

        response = httpx.put(
            f"{metrics_url}/api/v1/admin/articles/{SLUG}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"title": "Drill", "url": "https://news.example/drill"},
            timeout=10,
        )
        assert response.status_code == 201
        with httpx.Client(base_url=api_url, timeout=10) as client:
            ids = []
            for i, text in enumerate(REMARKS):
                response = client.post(
                    f"/api/v1/articles/{SLUG}/comments",
                    headers={"X-Request-ID": f"e2e-req-{i}"},
                    json={
                        "author_name": f"Reader {i}",
                        "author_email": f"m{i}@example.org",
                        "content": text,
                    },
                )
                assert response.status_code == 202, response.text
                ids.append(response.json()["id"])

        n = len(ids)

        last = {}

        def settled():
            # One scrape reads Redis, the database and the counter files one after the other
            # while the worker moves on: poll until they agree that all is done.
            last["samples"] = samples = scrape(metrics_url)
            done = (
                value(samples, "parley_comments", status="published") == n
                and value(samples, "parley_comments_decided_total", decision="published") == n
                and value(samples, "parley_check_seconds_count") == n
                and value(samples, "parley_queue_depth", queue="checks") == 0
            )
            return samples if done else None

        try:
            samples = wait_for(settled, 30, f"{n} published comments, counted")
        except AssertionError:
            print(
                {
                    k: v
                    for k, v in last.get("samples", {}).items()
                    if k[0].startswith(
                        ("parley_comments", "parley_queue", "parley_check_seconds_count")
                    )
                }
            )
            raise
        # Counted in the api's two gunicorn workers, summed by the scraper process.
        assert value(samples, "parley_comments_submitted_total") == n
        assert value(samples, "parley_http_requests_total", endpoint=SUBMIT_RULE, status="202") == n
        # Counted in the Celery worker process.
        assert value(samples, "parley_comments_decided_total", decision="published") == n
        assert (
            value(samples, "parley_akismet_requests_total", endpoint="comment-check", outcome="ham")
            == n
        )
        assert value(samples, "parley_akismet_request_seconds_count", endpoint="comment-check") == n
        assert value(samples, "parley_check_seconds_count") == n
        # Read from Redis and the database at scrape time.
        assert value(samples, "parley_queue_depth", queue="checks") == 0
        assert value(samples, "parley_oldest_unchecked_age_seconds") == 0
        wait_for(
            lambda: value(scrape(metrics_url), "parley_workers_alive") == 1,
            15,
            "the worker's heartbeat",
        )

        writers = {path.stem.split("_", 1)[1] for path in metrics_dir.glob("*.db")}
        assert len(writers) >= 4, (
            writers
        )  # api master's children x2, worker, scraper: <host>-<pid> each
        assert all(name.rsplit("-", 1)[1].isdigit() and not name.isdigit() for name in writers)

        # One request id, from the HTTP request to the worker's decision, in JSON lines.
        api_lines, worker_lines = json_lines(api.log()), json_lines(worker.log())
        # The intake writer's line for the batch that stored the first comment.
        assert any(
            line["message"] == "comments received"
            and "e2e-req-0" in line["request_ids"]
            and line["service"] == "api"
            for line in api_lines
        )
        decided = [line for line in worker_lines if line["message"] == "comment decided"]
        assert {line["request_id"] for line in decided} >= {f"e2e-req-{i}" for i in range(n)}
        assert all(line["service"] == "worker" and line["comment_id"] in ids for line in decided)
    finally:
        for proc in reversed(procs):
            proc.stop()
        akismet.stop()
        redis_proc.stop()
