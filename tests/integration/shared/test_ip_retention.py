"""Client data leaves stored comments after ``PARLEY_IP_RETENTION_DAYS`` (docs/contract.md
§2, issue 26 item 3): the boundary, the comments that wait for Akismet, batches, and what
becomes of a moderator's correction that Akismet can no longer be told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.config import SettingsError, load_settings
from shared.db import session_scope
from shared.models import Comment, CommentHistory
from shared.moderation import actions, pipeline
from shared.privacy import retention
from tests.support.factories import LINKS, open_article, submit_in_process

SLUG = "istanbul-talks"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def aged(container, cid: str, created_at: datetime, **values) -> None:
    with session_scope(container.stores.moderation) as session:
        session.execute(
            sa.update(Comment).where(Comment.id == cid).values(created_at=created_at, **values)
        )


def client_data(container, cid: str) -> tuple:
    with container.stores.moderation_read() as session:
        row = session.get(Comment, cid)
        return row.user_ip, row.user_agent, row.referrer, row.accept_language


def test_the_boundary_a_second_either_side(make_container, backend, redis_client):
    container = make_container(ip_retention_days=30)
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    older = submit_in_process(container, SLUG, "Older than the retention by a second.")
    younger = submit_in_process(container, SLUG, "Younger than the retention by a second.")
    for cid in (older, younger):
        pipeline.check_comment(container, cid)
    cutoff = NOW - timedelta(days=30)
    aged(container, older, cutoff - timedelta(seconds=1), accept_language="tr-TR")
    aged(container, younger, cutoff + timedelta(seconds=1), accept_language="tr-TR")
    assert retention.purge_client_data(container, now=NOW) == {"cleared": 1, "waiting": 0}
    assert client_data(container, older) == ("", None, None, None)
    assert client_data(container, younger) == (
        "198.51.100.4",
        "Mozilla/5.0 (X11)",
        "https://news.example/talks",
        "tr-TR",
    )
    # A second later the younger one is due too (the bound kept in Redis lets it through).
    later = NOW + timedelta(seconds=2)
    assert retention.purge_client_data(container, now=later) == {"cleared": 1, "waiting": 0}
    assert client_data(container, younger) == ("", None, None, None)
    assert retention.purge_client_data(container, now=later)["cleared"] == 0


def test_comments_waiting_for_akismet_keep_theirs_until_decided(
    make_container, backend, redis_client
):
    container = make_container(ip_retention_days=1)
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    unchecked = submit_in_process(container, SLUG, "Never checked, still received.")
    recheck = submit_in_process(container, SLUG, "Held for an Akismet error.")
    long_ago = NOW - timedelta(days=5)
    aged(container, unchecked, long_ago)
    aged(
        container,
        recheck,
        long_ago,
        status="held",
        akismet={"verdict": "error"},
        akismet_next_check_at=NOW + timedelta(minutes=5),
    )
    assert retention.purge_client_data(container, now=NOW) == {"cleared": 0, "waiting": 2}
    assert client_data(container, unchecked)[0] == "198.51.100.4"
    assert client_data(container, recheck)[0] == "198.51.100.4"
    # Rechecks given up: the next run clears it (the bound stayed before it).
    aged(container, recheck, long_ago, akismet_next_check_at=None)
    assert retention.purge_client_data(container, now=NOW) == {"cleared": 1, "waiting": 1}
    assert client_data(container, recheck)[0] == ""


def test_many_comments_in_batches(make_container, redis_client, monkeypatch):
    container = make_container(ip_retention_days=1)
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    ids = [submit_in_process(container, SLUG, f"Comment number {n} here.") for n in range(7)]
    for cid in ids:
        aged(container, cid, NOW - timedelta(days=3), status="published")
    monkeypatch.setattr(retention, "BATCH", 3)
    assert retention.purge_client_data(container, now=NOW)["cleared"] == 7
    assert {client_data(container, cid)[0] for cid in ids} == {""}


def test_without_the_bound_in_redis_a_full_pass(make_container, redis_client):
    container = make_container(ip_retention_days=1)
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    first = submit_in_process(container, SLUG, "The first comment here.")
    aged(container, first, NOW - timedelta(days=3), status="published")
    retention.purge_client_data(container, now=NOW)
    assert redis_client.ttl(retention.WATERMARK) > 0
    # An import stores a comment dated before the bound: a pass after the bound lapses
    # (daily, or Redis lost) finds it.
    imported = submit_in_process(container, SLUG, "An imported old comment.")
    aged(container, imported, NOW - timedelta(days=10), status="published")
    assert retention.purge_client_data(container, now=NOW)["cleared"] == 0
    redis_client.delete(retention.WATERMARK)
    assert retention.purge_client_data(container, now=NOW)["cleared"] == 1


def test_feedback_for_a_comment_without_its_ip_is_not_sent(akismet_container, akismet_server):
    container = akismet_container
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    cid = submit_in_process(container, SLUG, f"{LINKS} (feedback test)")
    aged(container, cid, NOW, status="held", akismet={"verdict": "spam"}, user_ip="")
    result = actions.moderate(container, cid, "approve", "mod@news.example")
    assert result.feedback == "ham"
    assert actions.send_feedback(container, cid, "ham", "mod@news.example") is False
    assert akismet_server.requests_to("submit-ham") == []
    with container.stores.moderation_read() as session:
        notes = session.scalars(
            sa.select(CommentHistory.note).where(
                CommentHistory.comment_id == cid, CommentHistory.action == "akismet_submit_ham"
            )
        ).all()
    assert notes == ["not reported to Akismet: the comment's IP address was removed"]


@pytest.mark.parametrize("raw", ["0", "-1", "thirty", "3651"])
def test_a_bad_retention_stops_the_process(raw):
    with pytest.raises(SettingsError, match="PARLEY_IP_RETENTION_DAYS"):
        load_settings({"PARLEY_IP_RETENTION_DAYS": raw})


def test_the_default_is_thirty_days():
    assert load_settings({}).ip_retention_days == 30
    assert load_settings({"PARLEY_IP_RETENTION_DAYS": "7"}).ip_retention_days == 7
