"""``GET /api/v1/articles/{slug}/comments?order=newest`` (an addition, docs/contract.md §3):
the newest first, each next page older, every comment once; a cursor is taken back only
in the order that wrote it. The widget shows an article's latest comments this way."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.services.test_api_reads import publish


def _walk(client, slug: str, limit: int, order: str) -> list[str]:
    seen, cursor = [], None
    while True:
        url = f"/api/v1/articles/{slug}/comments?limit={limit}&order={order}" + (
            f"&cursor={cursor}" if cursor else ""
        )
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        seen += [c["id"] for c in body["comments"]]
        cursor = body["next_cursor"]
        if not cursor:
            return seen


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_newest_first_pages_back_in_time(backend, client, container, article):
    ids = publish(container, article, 7)
    assert _walk(client, article, 3, "newest") == list(reversed(ids))
    assert _walk(client, article, 3, "oldest") == ids
    # without the parameter: oldest first, as the contract says
    plain = client.get(f"/api/v1/articles/{article}/comments").get_json()
    assert [c["id"] for c in plain["comments"]] == ids


def test_a_cursor_is_taken_back_only_in_its_own_order(client, container, article):
    publish(container, article, 5)
    base = f"/api/v1/articles/{article}/comments?limit=2"
    newest = client.get(base + "&order=newest").get_json()["next_cursor"]
    oldest = client.get(base).get_json()["next_cursor"]
    assert newest and oldest
    for url in (f"{base}&cursor={newest}", f"{base}&order=newest&cursor={oldest}"):
        answer = client.get(url)
        assert answer.status_code == 422
        assert "cursor" in answer.get_json()["errors"]


@pytest.mark.parametrize("order", ["", "NEWEST", "random", "newest "])
def test_an_unknown_order_is_a_422(client, article, order):
    answer = client.get(f"/api/v1/articles/{article}/comments?order={order}")
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {"order": ["must be oldest or newest"]}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(count=st.integers(min_value=0, max_value=12), limit=st.integers(min_value=1, max_value=5))
def test_both_orders_list_every_comment_once(client, container, article, count, limit):
    from shared.db import session_scope
    from shared.models import PublishedComment

    with session_scope(container.stores.articles) as session:
        session.query(PublishedComment).filter_by(article_slug=article).delete()
    ids = publish(container, article, count)
    assert _walk(client, article, limit, "newest") == list(reversed(ids))
    assert _walk(client, article, limit, "oldest") == ids
