"""A form token is good for one comment, and a form post without one is a script's
(issue 22 item 11; shared/formtoken.py, docs/contract.md §3).

On the real Redis (the used tokens) and SQLite store, through the API and the check.
"""

from __future__ import annotations

import threading

from services.api import create_app
from shared import formtoken
from shared.models import Comment
from shared.moderation import pipeline
from tests.support.factories import GOOD, reader, submit_in_process

DOWN_REDIS = "redis://127.0.0.1:1/3"  # nothing listens on port 1


def token_for(client, slug) -> str:
    return client.get(f"/api/v1/articles/{slug}/form-token").get_json()["form_token"]


def stored(container, cid) -> Comment:
    with container.stores.moderation() as session:
        return session.get(Comment, cid)


def reasons(container, cid) -> dict[str, dict]:
    pipeline.check_comment(container, cid)
    return {reason["rule"]: reason for reason in stored(container, cid).reasons}


def test_a_second_comment_with_one_token_counts_as_reused(container, client, article):
    """The finding: one token, fetched once, passed for a day's worth of comments."""
    token = token_for(client, article)
    url = f"/api/v1/articles/{article}/comments"
    first = client.post(url, json=reader("The first use.", form_token=token)).get_json()["id"]
    second = client.post(url, json=reader("The second use.", form_token=token)).get_json()["id"]
    assert stored(container, first).form_token_status == "valid"
    assert stored(container, second).form_token_status == "reused"
    assert "form_token_invalid" not in reasons(container, first)
    reused = reasons(container, second)["form_token_invalid"]
    assert reused["score"] == 1.0
    assert reused["detail"] == "the form token was already used for another comment"
    # a new token is fresh again
    third = client.post(url, json=reader("A new token.", form_token=token_for(client, article)))
    assert stored(container, third.get_json()["id"]).form_token_status == "valid"


def test_two_tokens_fetched_in_the_same_second_are_two_tokens(client, article):
    tokens = {token_for(client, article) for _ in range(5)}
    assert len(tokens) == 5


def test_twenty_threads_with_one_token_one_counts_as_fresh(container, client, article):
    token = token_for(client, article)
    start = threading.Barrier(20)
    ids: list[str] = []
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            start.wait()
            ids.append(
                submit_in_process(container, article, f"Racing remark {n}.", form_token=token)
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(ids) == 20
    statuses = sorted(stored(container, cid).form_token_status for cid in ids)
    assert statuses == ["reused"] * 19 + ["valid"]


def test_a_retry_of_the_same_comment_keeps_its_token(redis_client):
    """The same comment sent again (its first answer lost, say) is the same use."""
    token = formtoken.issue("test-secret", "istanbul-talks")
    assert formtoken.claim(redis_client, token, 10.0, "fingerprint-a") == "valid"
    assert formtoken.claim(redis_client, token, 11.0, "fingerprint-a") == "valid"
    assert formtoken.claim(redis_client, token, 12.0, "fingerprint-b") == "reused"
    # remembered as long as the token lives, no longer
    [key] = redis_client.keys("parley:form-token:*")
    assert formtoken.MAX_AGE - 20 < redis_client.ttl(key) <= formtoken.MAX_AGE - 10 + 1


def test_with_redis_down_the_token_is_taken_and_the_comment_accepted(make_container, article):
    down = make_container(redis_url=DOWN_REDIS)
    client = create_app(down).test_client()
    token = token_for(client, article)
    response = client.post(
        f"/api/v1/articles/{article}/comments", json=reader("Redis is away.", form_token=token)
    )
    assert response.status_code == 202
    assert stored(down, response.get_json()["id"]).form_token_status == "valid"


def test_a_form_post_without_a_token_scores(container, client, article):
    url = f"/api/v1/articles/{article}/comments"
    assert client.post(url, data=reader("Posted by a script.")).status_code == 303
    with container.stores.moderation() as session:
        row = session.query(Comment).filter_by(content="Posted by a script.").one()
    assert row.form_token_status == "form_missing"
    missing = reasons(container, row.id)["form_token_missing"]
    assert missing["score"] == 0.5 and "article page always sends one" in missing["detail"]


def test_a_json_post_without_a_token_costs_nothing(container, client, article):
    url = f"/api/v1/articles/{article}/comments"
    cid = client.post(url, json=GOOD).get_json()["id"]
    assert stored(container, cid).form_token_status == "missing"
    assert reasons(container, cid) == {}


def test_the_article_pages_form_token_is_fresh(container, client, article):
    html = client.get(f"/articles/{article}").get_data(as_text=True)
    token = html.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    url = f"/api/v1/articles/{article}/comments"
    assert client.post(url, data=reader("From the page.", form_token=token)).status_code == 303
    with container.stores.moderation() as session:
        row = session.query(Comment).filter_by(content="From the page.").one()
    assert row.form_token_status == "valid"
