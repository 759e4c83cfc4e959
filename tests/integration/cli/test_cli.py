"""The operators' commands (``parley …``) against the real Redis and SQLite of the tests."""

from __future__ import annotations

import base64
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from shared.db import session_scope
from shared.models import Comment
from shared.moderation import pipeline
from shared.ops import heartbeat
from tests.support.metrics import drain_checks, submit_remark


def set_columns(container, comment_id, **values):
    with session_scope(container.stores.moderation) as session:
        session.execute(update(Comment).where(Comment.id == comment_id).values(**values))


def queued_checks(redis_client) -> list[list]:
    return [
        json.loads(base64.b64decode(json.loads(raw)["body"]))[0]
        for raw in redis_client.lrange("checks", 0, -1)
    ]


def test_stats_json_and_table(parley, client, article, redis_client):
    submit_remark(client, article, 0)
    submit_remark(client, article, 1)
    heartbeat.write_heartbeat(redis_client, "celery@box", active=2)

    result = parley("stats", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["queue_depth"]["checks"] == 2
    assert data["comments"]["received"] == 2 and data["comments"]["published"] == 0
    assert data["oldest_unchecked_age_seconds"] >= 0
    assert [w["name"] for w in data["workers"]] == ["celery@box"]

    table = parley("stats").output
    assert "checks" in table and "received" in table and "oldest unchecked" in table
    assert "celery@box" in table and "alive" in table


def test_stats_without_workers_says_so(parley):
    result = parley("stats")
    assert result.exit_code == 0 and "(none seen in the last hour)" in result.output


def test_stats_reports_unreachable_redis_clearly(parley):
    result = parley("stats", PARLEY_REDIS_URL="redis://127.0.0.1:1/0")
    assert result.exit_code == 1 and "Redis unreachable" in result.output


def test_sweep_requeues_a_comment_never_queued(parley, client, article, container, redis_client):
    comment_id = submit_remark(client, article, 0)
    drain_checks(redis_client)  # the queue lost it
    set_columns(container, comment_id, created_at=datetime.now(UTC) - timedelta(hours=1))
    result = parley("sweep")
    assert result.exit_code == 0, result.output
    assert "to check: 1" in result.output and "queued: 1" in result.output
    assert queued_checks(redis_client) == [[comment_id]]


def test_recheck_due_and_all(
    parley, client, article, container, akismet_container, akismet_server, redis_client
):
    akismet_server.set(mode="error500")
    first, second = submit_remark(client, article, 0), submit_remark(client, article, 1)
    drain_checks(redis_client)
    assert pipeline.check_comment(akismet_container, first) == "held"
    assert pipeline.check_comment(akismet_container, second) == "held"
    set_columns(container, first, akismet_next_check_at=datetime.now(UTC) - timedelta(minutes=1))

    result = parley("recheck")
    assert result.exit_code == 0, result.output
    assert "rechecks due: 1, queued: 1" in result.output
    assert queued_checks(redis_client) == [[first, True]]

    drain_checks(redis_client)
    result = parley("recheck", "--all")
    assert result.exit_code == 0, result.output
    assert "held for an Akismet error: 2" in result.output and "queued: 2" in result.output
    assert sorted(queued_checks(redis_client)) == sorted([[first, True], [second, True]])
    # --all made them due, so the queued rechecks can claim them.
    akismet_server.set(mode="normal")
    drain_checks(redis_client)
    assert pipeline.check_comment(akismet_container, second, recheck=True) == "published"


def test_recheck_fails_loudly_when_nothing_can_be_queued(
    parley, client, article, container, akismet_container, akismet_server, redis_client
):
    akismet_server.set(mode="error500")
    comment_id = submit_remark(client, article, 0)
    drain_checks(redis_client)
    pipeline.check_comment(akismet_container, comment_id)
    # The database is reachable, the broker is not.
    result = parley("recheck", "--all", PARLEY_REDIS_URL="redis://127.0.0.1:1/0")
    assert result.exit_code == 1
    assert "only 0 of 1 rechecks could be queued" in result.output


def test_purge_prints_counts(parley, client, article, container):
    spam = submit_remark(client, article, 0)
    set_columns(container, spam, status="spam", updated_at=datetime.now(UTC) - timedelta(days=30))
    result = parley("purge")
    assert result.exit_code == 0, result.output
    assert "purged: 1 spam, 0 discarded" in result.output


def test_replay_events_between_times_and_by_type(
    parley, client, article, container, akismet_container, redis_client
):
    start = datetime.now(UTC) - timedelta(seconds=1)
    comment_id = submit_remark(client, article, 0)
    drain_checks(redis_client)
    pipeline.check_comment(akismet_container, comment_id)
    until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()

    result = parley("replay-events", "--since", start.isoformat(), "--until", until)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["type"] for e in lines] == ["comment.received", "comment.published"]
    assert {e["comment_id"] for e in lines} == {comment_id}
    assert all(set(e) >= {"id", "event_id", "type", "comment_id", "article", "at"} for e in lines)

    only = parley("replay-events", "--since", start.isoformat(), "--type", "comment.published")
    assert [json.loads(line)["type"] for line in only.stdout.splitlines()] == ["comment.published"]

    before = parley(
        "replay-events",
        "--since",
        (start - timedelta(hours=1)).isoformat(),
        "--until",
        (start - timedelta(minutes=1)).isoformat(),
    )
    assert before.exit_code == 0 and before.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay-events", "--since", "yesterday"], "not an ISO 8601 time"),
        (
            ["replay-events", "--since", "2025-05-02", "--until", "2025-05-01"],
            "must not be after --until",
        ),
        (["replay-events", "--since", "2025-05-01", "--type", "comment.eaten"], "comment.eaten"),
        (["replay-events"], "Missing option '--since'"),
    ],
)
def test_bad_arguments_are_clear_click_errors(parley, args, message):
    result = parley(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_worker_health(parley, redis_client):
    here = f"celery@{socket.gethostname()}"
    assert parley("worker-health").exit_code == 1
    heartbeat.write_heartbeat(redis_client, here, active=0)
    ok = parley("worker-health")
    assert ok.exit_code == 0 and here in ok.output
    assert parley("worker-health", "--name", here).exit_code == 0
    assert parley("worker-health", "--name", "celery@elsewhere").exit_code == 1
    heartbeat.clear_heartbeat(redis_client, here)
    assert parley("worker-health").exit_code == 1
    assert parley("worker-health", PARLEY_REDIS_URL="redis://127.0.0.1:1/0").exit_code == 1


def test_bad_setting_is_a_clear_error(parley):
    result = parley("stats", PARLEY_MAX_LINKS="0")
    assert result.exit_code == 1 and "PARLEY_MAX_LINKS" in result.output
