"""``/metrics`` and the ops series after real traffic: the API's test client, the real
pipeline against the Akismet-compatible server, real Redis and SQLite.

This process's own counters are read (single-process mode, or this process's files when
``PROMETHEUS_MULTIPROC_DIR`` is set); aggregation across processes is proven end to end
in ``tests/e2e/test_metrics_e2e.py``. Counters are compared as deltas, since earlier
tests of the session count too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from services import http
from shared import logs, taskqueue
from shared.moderation import pipeline
from shared.ops import collector, heartbeat
from shared.ops.series import (
    batched,
    ops_series,
    percentile,
    record_akismet,
    record_decisions,
)
from shared.ops.series import sample as sample_ops_series
from tests.support.metrics import (
    SUBMIT_RULE,
    N,
    drain_checks,
    scrape,
    submit_remark,
    value,
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres-split"], indirect=True)
def test_metrics_after_real_traffic(
    backend, client, article, container, akismet_container, redis_client
):
    before = scrape(container)
    ids = [submit_remark(client, article, i) for i in range(N)]

    waiting = scrape(container)
    assert 1 <= value(waiting, "parley_queue_depth", queue="checks") <= N  # intake may batch
    assert value(waiting, "parley_comments", status="received") == N
    assert value(waiting, "parley_oldest_unchecked_age_seconds") >= 0
    assert (
        value(waiting, "parley_comments_submitted_total")
        - value(before, "parley_comments_submitted_total")
        == N
    )

    queued = drain_checks(redis_client)
    assert sorted(queued) == sorted(ids)
    for comment_id in queued:
        assert pipeline.check_comment(akismet_container, comment_id) == "published"

    after = scrape(container)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("parley_comments_submitted_total") == N
    assert delta("parley_comments_decided_total", decision="published") == N
    assert delta("parley_akismet_requests_total", endpoint="comment-check", outcome="ham") == N
    assert delta("parley_akismet_request_seconds_count", endpoint="comment-check") == N
    assert delta("parley_check_seconds_count") == N
    assert delta("parley_check_seconds_bucket", le="+Inf") == N
    assert delta("parley_http_requests_total", endpoint=SUBMIT_RULE, status="202") == N
    assert value(after, "parley_comments", status="published") == N
    assert value(after, "parley_comments", status="received") == 0
    assert value(after, "parley_queue_depth", queue="checks") == 0
    assert value(after, "parley_oldest_unchecked_age_seconds") == 0
    assert value(after, "parley_ops_source_up", source="redis") == 1
    assert value(after, "parley_ops_source_up", source="database") == 1

    series = ops_series(container)
    assert sum(series["decisions"]["published"][-2:]) == N  # the minute may have turned
    assert sum(series["akismet"]["requests"][-2:]) == N and sum(series["akismet"]["errors"]) == 0
    assert max(series["akismet"]["p99_ms"][-2:]) > 0
    assert max(series["check_latency"]["p50_s"][-2:]) > 0


def test_contract_names_are_exposed_exactly(container):
    names = {name for name, _ in scrape(container)}
    for contract_name in (
        "parley_queue_depth",
        "parley_comments",
        "parley_oldest_unchecked_age_seconds",
        "parley_comments_submitted_total",
        "parley_check_seconds_count",
        "parley_check_seconds_bucket",
        "parley_workers_alive",
    ):
        assert contract_name in names, contract_name


def test_queue_depth_counts_kombu_priority_lists(container, redis_client):
    redis_client.rpush("checks", "m1")
    redis_client.rpush("checks\x06\x163", "m2", "m3")
    redis_client.rpush("publish\x06\x169", "m4")
    assert collector.queue_depths(container.redis) == {
        "checks": 3,
        "publish": 1,
        "feedback": 0,
        "maintenance": 0,
    }


def test_workers_alive_from_heartbeats(container, redis_client):
    heartbeat.write_heartbeat(container.redis, "celery@box-a", active=3, pid=11)
    heartbeat.write_heartbeat(container.redis, "celery@box-b", active=0, pid=12)
    # box-b left on purpose: remembered, not alive
    heartbeat.clear_heartbeat(container.redis, "celery@box-b")
    assert value(scrape(container), "parley_workers_alive") == 1
    workers = {w["name"]: w for w in ops_series(container)["workers"]}
    assert workers["celery@box-a"]["alive"] and workers["celery@box-a"]["active"] == 3
    assert not workers["celery@box-b"]["alive"] and workers["celery@box-b"]["active"] == 0
    # An hour later the departed one is forgotten.
    later = datetime.now(UTC) + timedelta(hours=2)
    assert heartbeat.workers(container.redis, later) == [
        w for w in heartbeat.workers(container.redis, later) if w["name"] == "celery@box-a"
    ]


def test_scrape_survives_redis_down(make_container):
    down = make_container(redis_url="redis://127.0.0.1:1/0")
    samples = scrape(down)
    assert value(samples, "parley_ops_source_up", source="redis") == 0
    assert value(samples, "parley_ops_source_up", source="database") == 1
    assert ("parley_comments", (("status", "published"),)) in samples


def test_recording_never_raises_with_redis_down():
    record_decisions("redis://127.0.0.1:1/0", [("published", 0.4)])
    record_akismet("redis://127.0.0.1:1/0", "comment-check", "timeout", 5.0)
    record_decisions(None, [("held", None)])


def _series_fields(redis_client) -> dict[str, int]:
    """Every minute's fields added up (a test may straddle a minute)."""
    total: dict[str, int] = {}
    for key in redis_client.keys("parley:ops:minute:*"):
        for name, amount in redis_client.hgetall(key).items():
            total[name] = total.get(name, 0) + int(amount)
    return total


def test_a_checks_increments_are_written_together_at_its_end(container, redis_client):
    url = container.settings.redis_url
    with batched():
        record_akismet(url, "comment-check", "ok", 0.2)
        with batched():  # nested: the outer one writes
            record_akismet(url, "comment-check", "timeout", 0.3)
        record_decisions(url, [("published", 0.4), ("published", 0.5)])
        assert _series_fields(redis_client) == {}
    written = _series_fields(redis_client)
    assert written["akismet:requests"] == 2 and written["akismet:errors"] == 1
    assert written["decided:published"] == 2
    record_decisions(url, [("held", None)])  # outside: at once, as before
    assert _series_fields(redis_client)["decided:held"] == 1


def test_a_batch_with_redis_down_does_not_raise():
    with batched():
        record_decisions("redis://127.0.0.1:1/0", [("published", 0.4)])


def test_ops_series_shape_and_samples(container, redis_client):
    record_decisions(container.settings.redis_url, [("held", 1.5)])
    record_akismet(container.settings.redis_url, "comment-check", "timeout", 0.2)
    redis_client.rpush("checks", "m1", "m2")
    sample_ops_series(container)
    series = ops_series(container)
    assert set(series) == {
        "generated_at",
        "minutes",
        "queue_depth",
        "oldest_unchecked_age",
        "decisions",
        "akismet",
        "check_latency",
        "workers",
    }
    assert len(series["minutes"]) == 60 and series["minutes"] == sorted(series["minutes"])
    assert set(series["queue_depth"]) == set(taskqueue.QUEUES)
    assert set(series["decisions"]) == {"published", "held", "spam", "discarded"}
    assert set(series["akismet"]) == {"requests", "errors", "p50_ms", "p99_ms"}
    assert set(series["check_latency"]) == {"p50_s", "p99_s"}
    for values in [
        series["oldest_unchecked_age"],
        *series["queue_depth"].values(),
        *series["decisions"].values(),
        *series["akismet"].values(),
        *series["check_latency"].values(),
    ]:
        assert len(values) == 60 and all(isinstance(v, int | float) for v in values)
    assert series["queue_depth"]["checks"][-1] == 2
    assert series["decisions"]["held"][-1] == 1 and series["akismet"]["errors"][-1] == 1
    assert 100 <= series["akismet"]["p50_ms"][-1] <= 200  # 200 ms falls in the (150, 200] bucket
    assert 1 <= series["check_latency"]["p50_s"][-1] <= 2


@pytest.mark.parametrize(
    ("counts", "q", "expected"),
    [
        ([0, 0, 0], 0.5, 0.0),
        ([10, 0, 0], 0.5, 5.0),  # bucket (0, 10]: interpolated to its middle
        ([0, 4, 0], 1.0, 20.0),
        ([0, 0, 3], 0.99, 20.0),  # the open bucket reports its floor
    ],
)
def test_percentile_interpolates_within_buckets(counts, q, expected):
    assert percentile(counts, (10, 20), q) == expected


def test_request_id_rides_from_http_request_into_the_task_header(container, redis_client):
    app = Flask(__name__)
    http.install(app, container)

    @app.post("/enqueue")
    def enqueue():
        container.queue.send(taskqueue.CHECK, "comment-1")
        return "ok"

    response = app.test_client().post("/enqueue", headers={"X-Request-ID": "req-from-http"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "req-from-http"
    [raw] = redis_client.lrange("checks", 0, -1)
    assert json.loads(raw)["headers"][logs.REQUEST_ID_HEADER] == "req-from-http"
    assert logs.REQUEST_ID.get() is None  # cleared when the request ended
