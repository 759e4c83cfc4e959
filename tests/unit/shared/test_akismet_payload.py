"""akismet_payload: what Akismet is told about a comment (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import akismet

from shared.config import load_settings
from shared.models import Comment
from shared.spam import CheckResult, akismet_payload

SETTINGS = load_settings({}, blog_lang="fr")


def comment(**overrides) -> SimpleNamespace:
    values = {
        "article_permalink": "http://news.example/articles/hello",
        "parent_id": None,
        "author_name": "Ada",
        "author_email": "ada@example.com",
        "author_url": None,
        "content": "Bonjour",
        "user_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "referrer": None,
        "created_at": datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def test_full_payload():
    payload = akismet_payload(
        comment(author_url="https://ada.example", referrer="http://r"), SETTINGS
    )
    assert payload == {
        "user_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "referrer": "http://r",
        "permalink": "http://news.example/articles/hello",
        "comment_type": "comment",
        "comment_author": "Ada",
        "comment_author_email": "ada@example.com",
        "comment_author_url": "https://ada.example",
        "comment_content": "Bonjour",
        "comment_date_gmt": "2025-03-01T12:30:15Z",
        "blog_lang": "fr",
        "blog_charset": "UTF-8",
        "honeypot_field_name": "website",
    }


def test_none_values_are_omitted():
    payload = akismet_payload(comment(), SETTINGS)
    assert "comment_author_url" not in payload
    assert "referrer" not in payload
    assert "comment_post_modified_gmt" not in payload
    assert "recheck_reason" not in payload


def test_reply_type():
    assert akismet_payload(comment(parent_id="abc"), SETTINGS)["comment_type"] == "reply"


def test_recheck_reason():
    payload = akismet_payload(comment(), SETTINGS, recheck_reason="retry")
    assert payload["recheck_reason"] == "retry"


def test_dates_are_utc():
    paris = timezone(timedelta(hours=1))
    payload = akismet_payload(
        comment(
            created_at=datetime(2025, 3, 1, 13, 30, tzinfo=paris),
            article_modified_at=datetime(2025, 2, 1, 8, 0),  # naive: stored as UTC
        ),
        SETTINGS,
    )
    assert payload["comment_date_gmt"] == "2025-03-01T12:30:00Z"
    assert payload["comment_post_modified_gmt"] == "2025-02-01T08:00:00Z"


def test_only_keys_the_client_accepts():
    payload = akismet_payload(
        comment(article_modified_at=datetime(2025, 2, 1, tzinfo=UTC)), SETTINGS, "retry"
    )
    allowed = set(akismet.AkismetArguments.__optional_keys__) | {"user_ip"}
    assert set(payload) <= allowed


def test_works_with_the_orm_model():
    orm = Comment(
        article_slug="hello",
        article_permalink="http://news.example/articles/hello",
        author_name="Ada",
        author_email="ada@example.com",
        content="Bonjour",
        user_ip="203.0.113.7",
        created_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    payload = akismet_payload(orm, SETTINGS)
    assert payload["comment_author"] == "Ada"
    assert payload["comment_type"] == "comment"
    assert payload["comment_date_gmt"] == "2025-03-01T00:00:00Z"


def test_check_result_record_omits_none_but_keeps_verdict():
    when = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    record = CheckResult(verdict="ham", guid="g", attempts=1, checked_at=when).as_record()
    assert record == {
        "verdict": "ham",
        "guid": "g",
        "attempts": 1,
        "checked_at": "2025-03-01T12:00:00Z",
    }
