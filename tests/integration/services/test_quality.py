"""The Quality answer and page (docs/contract.md §4): each rule measured against the
moderators' decisions, trials with what they would have changed, on SQLite and
PostgreSQL, and fast on 10,000 decided comments."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.db import session_scope
from shared.models import Comment, CommentHistory, history_row, new_id, utcnow
from shared.moderation import lists, pipeline, quality
from tests.support.factories import ADMIN, ADMIN_EMAIL, LINKS, submit

QUALITY = "/api/v1/admin/quality"


@pytest.fixture
def api(dash_app):
    """The admin JSON API's client: the dashboard serves it (docs/contract.md §1)."""
    return dash_app.test_client()


def decide(container, client, article, content: str, email: str) -> str:
    cid = submit(client, article, content=content, author_email=email)
    pipeline.check_comment(container, cid)
    return cid


def act(api, cid: str, *actions: str) -> None:
    for action in actions:
        response = api.post(
            f"/api/v1/admin/comments/{cid}/actions", json={"action": action}, headers=ADMIN
        )
        assert response.status_code == 200, response.get_data(as_text=True)


def rows(body: dict, trial: bool = False) -> dict:
    found = {}
    for row in body["rules"]:
        if bool(row.get("trial")) == trial:
            entry = row.get("entry")
            found[(row["rule"], entry["value"]) if entry else row["rule"]] = row
    return found


def test_empty_site(api):
    body = api.get(QUALITY, headers=ADMIN).get_json()
    assert body["labelled"] == {"ham": 0, "spam": 0}
    assert body["classifier"]["version"] is None
    assert body["classifier"]["examples"] == {"ham": 0, "spam": 0}
    on = rows(body)
    assert on["links"] == {
        "rule": "links",
        "mode": "on",
        "fired": 0,
        "agreed": 0,
        "overridden": 0,
        "precision": None,
    }
    assert "classifier" in on and rows(body, trial=True) == {}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_rules_are_measured_against_the_moderators_last_action(
    api, backend, client, container, article
):
    c1 = decide(container, client, article, LINKS + " one", "c1@example.org")
    c2 = decide(container, client, article, LINKS + " two", "c2@example.org")
    c3 = decide(container, client, article, "Buy bitcoin now", "c3@example.org")
    c4 = decide(container, client, article, LINKS + " four", "c4@example.org")
    c5 = decide(container, client, article, LINKS + " five", "c5@example.org")
    c6 = decide(container, client, article, "A fine comment.", "c6@example.org")
    act(api, c1, "approve")  # links overridden
    act(api, c2, "spam")  # links agreed
    act(api, c3, "spam")  # hold_word agreed
    act(api, c4, "spam", "approve")  # reversed: the last action counts, ham
    act(api, c5, "reject")  # rejected from held: no label
    act(api, c6, "spam", "reject")  # spam, then removed: spam, and no rule fired

    body = api.get(QUALITY, headers=ADMIN).get_json()
    assert body["labelled"] == {"ham": 2, "spam": 3}
    on = rows(body)
    assert on["links"] == {
        "rule": "links",
        "mode": "on",
        "fired": 3,
        "agreed": 1,
        "overridden": 2,
        "precision": 0.333,
    }
    assert on["hold_word"]["fired"] == 1 and on["hold_word"]["precision"] == 1.0
    assert on["block_word"]["fired"] == 0 and on["block_word"]["precision"] is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_trials_say_what_they_would_have_changed(api, backend, client, container, article):
    assert (
        api.put("/api/v1/admin/rules/links", json={"mode": "trial"}, headers=ADMIN).status_code
        == 200
    )
    with session_scope(container.stores.moderation) as session:
        entry = lists.add_list_entry(session, "block_word", "zorblax", ADMIN_EMAIL)
        session.flush()
        lists.set_entry_mode(session, entry.id, "trial", ADMIN_EMAIL)
    container.policy_cache.invalidate()

    t1 = decide(container, client, article, LINKS + " one", "t1@example.org")
    decide(container, client, article, LINKS + " two", "t2@example.org")  # nobody looks at it
    t3 = decide(container, client, article, LINKS + " and bitcoin", "t3@example.org")
    z1 = decide(container, client, article, "zorblax deals today", "z1@example.org")
    act(api, t1, "spam")  # published, the trial would have held it: agreed flip
    act(api, t3, "approve")  # held by the hold word; the trial changes nothing
    act(api, z1, "spam")  # published, the trial entry would have made it spam

    body = api.get(QUALITY, headers=ADMIN).get_json()
    trials = rows(body, trial=True)
    assert trials["links"] == {
        "rule": "links",
        "trial": True,
        "fired": 2,
        "agreed": 1,
        "overridden": 1,
        "precision": 0.5,
        "would_flip": 1,
        "flips_agreed": 1,
        "unreviewed": {"fired": 1, "would_flip": 1},
    }
    zorblax = trials[("block_word", "zorblax")]
    assert zorblax["entry"] == {"kind": "block_word", "value": "zorblax"}
    assert (
        zorblax["fired"],
        zorblax["agreed"],
        zorblax["would_flip"],
        zorblax["flips_agreed"],
    ) == (1, 1, 1, 1)
    on = rows(body)
    assert on["links"]["mode"] == "trial" and on["links"]["fired"] == 0


def test_the_quality_page(api, admin, client, container, article):
    cid = decide(container, client, article, LINKS, "one@example.org")
    act(api, cid, "approve")
    html = admin.get("/admin/quality").get_data(as_text=True)
    assert "<h1>Quality</h1>" in html and 'data-rule="links"' in html
    assert "1 approved (ham) and 0 marked as spam" in html
    assert "Nothing is on trial" in html
    assert "No model yet" in html
    assert 'href="/admin/quality"' in admin.get("/admin/settings").get_data(as_text=True)


def seed_decided(container, n: int) -> None:
    """``n`` decided comments with reasons and a moderator's action each, in bulk."""
    now = utcnow()
    comments, history = [], []
    for i in range(n):
        cid = new_id()
        spam = i % 3 == 0
        reasons = [{"rule": "links", "score": 1.0, "detail": "contains 2 links"}]
        if i % 2:
            reasons.append({"rule": "hold_word", "score": 1.0, "detail": 'watched word "x"'})
        if i % 5 == 0:
            reasons.append({"rule": "shouting", "score": 0.5, "detail": "caps", "trial": True})
        comments.append(
            dict(
                id=cid,
                article_slug="bulk",
                article_permalink="https://news.example/bulk",
                author_name="Reader",
                author_email=f"r{i}@example.org",
                content=f"comment {i}",
                user_ip="192.0.2.1",
                fingerprint=new_id() + new_id(),
                content_hash=new_id() + new_id(),
                status="spam" if spam else "approved",
                created_at=now - timedelta(minutes=i),
                updated_at=now,
                decided_at=now,
                score=sum(r["score"] for r in reasons if not r.get("trial")),
                reasons=reasons,
                decision="held",
                akismet={"verdict": "ham"},
            )
        )
        history.append(history_row(cid, now, "worker", "check", "checking", "held"))
        history.append(
            history_row(cid, now, "mod@news.example", "spam" if spam else "approve", "held", "x")
        )
    with container.stores.moderation_engine.begin() as conn:
        conn.execute(sa.insert(Comment), comments)
        conn.execute(sa.insert(CommentHistory), history)


def test_quality_is_fast_on_ten_thousand_decided_comments(container):
    seed_decided(container, 10_000)
    with container.stores.moderation_read() as session:
        started = time.perf_counter()
        body = quality.quality(session, container.settings)
        seconds = time.perf_counter() - started
    on = {r["rule"]: r for r in body["rules"] if not r.get("trial")}
    assert body["labelled"] == {"ham": 6666, "spam": 3334}
    assert on["links"]["fired"] == 10_000 and on["links"]["agreed"] == 3334
    assert on["hold_word"]["fired"] == 5000
    [shouting] = [r for r in body["rules"] if r.get("trial")]
    assert shouting["fired"] == 2000 and shouting["rule"] == "shouting"
    print(f"quality over 10,000 decided comments: {seconds * 1000:.0f} ms")
    assert seconds < 5  # a few hundred ms measured; the bound only catches a lost index


def test_the_classifiers_current_model_and_learning_curve(api, admin, container):
    from shared.classifier import store, training
    from shared.classifier.dataset import Row
    from tests.support.corpus import comments

    rows = [
        Row(r["text"], r["label"], r["author_name"], "", r["author_url"] or None)
        for r in comments(60, 40, 1)
    ]
    with session_scope(container.stores.moderation) as session:
        store.import_rows(session, rows)
    assert training.retrain(container)["version"] == 1
    block = api.get(QUALITY, headers=ADMIN).get_json()["classifier"]
    assert block["version"] == 1 and block["trained_at"]
    assert block["examples"] == {"ham": 60, "spam": 40}
    assert block["metrics"]["examples"] == 100
    curve = block["learning_curve"]
    assert curve and {"examples", "auc"} <= set(curve[0])
    html = admin.get("/admin/quality").get_data(as_text=True)
    assert "Model v1" in html and "60 ham and 40 spam" in html
    assert "<h3>Learning curve</h3>" in html and '<th class="num">auc</th>' in html
