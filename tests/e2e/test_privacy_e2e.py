"""Issue 26 item 3 on real processes: gunicorn's api and dashboard and a Celery worker.

Comments go in through the api and are published by the worker; the dashboard's admin API
exports the author's data (streamed by gunicorn) and erases it; the public api then no
longer shows the comment, the reply by someone else stays, and ``parley:events`` has the
erasure's events.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx
import pytest
import redis as redis_lib

from tests.support.factories import ADMIN, put_article
from tests.support.procs import stack_env, wait_for
from tests.support.stack import API, DASHBOARD, Running
from tests.support.stores import sqlite_store

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ADDRESS = "Privacy.E2E@example.org"


def published(api_url: str, slug: str) -> dict[str, dict]:
    body = httpx.get(f"{api_url}/api/v1/articles/{slug}/comments", timeout=10).json()
    return {c["id"]: c for c in body["comments"]}


def test_export_and_erase_through_the_running_stack(tmp_path):
    with Running(tmp_path) as run:
        db = sqlite_store(tmp_path)
        redis_url = run.redis()
        env = stack_env(db, redis_url, PARLEY_ADMIN_TOKEN=ADMIN["Authorization"].split()[1])
        _, api_url = run.gunicorn(API, env, "api")
        _, dashboard_url = run.gunicorn(DASHBOARD, env, "dashboard")
        run.worker(env)
        with httpx.Client(base_url=dashboard_url, headers=ADMIN, timeout=30) as dash:
            assert (
                put_article(
                    dash, "talks", title="Talks", url="https://news.example/talks"
                ).status_code
                == 201
            )
        with httpx.Client(base_url=api_url, timeout=10) as api:
            mine = api.post(
                "/api/v1/articles/talks/comments",
                json={
                    "author_name": "Ayşe",
                    "author_email": ADDRESS,
                    "content": "A first thought.",
                },
            ).json()["id"]
            wait_for(lambda: mine in published(api_url, "talks"), 60, "the comment published")
            reply = api.post(
                "/api/v1/articles/talks/comments",
                json={
                    "author_name": "Other",
                    "author_email": "other@example.org",
                    "content": "A reply to the first thought.",
                    "parent_id": mine,
                },
            ).json()["id"]
            wait_for(lambda: reply in published(api_url, "talks"), 60, "the reply published")

        path = f"{dashboard_url}/api/v1/admin/authors/{quote(ADDRESS.lower(), safe='')}"
        exported = httpx.get(path + "/export", headers=ADMIN, timeout=30)
        assert exported.status_code == 200
        assert exported.headers["Cache-Control"] == "no-store"
        body = exported.json()
        assert [c["id"] for c in body["comments"]] == [mine]
        assert body["comments"][0]["user_ip"] == "127.0.0.1"
        assert [c["id"] for c in body["published_comments"]] == [mine]

        erased = httpx.delete(path, headers={**ADMIN, "X-Parley-Actor": "dpo"}, timeout=30)
        assert erased.status_code == 200
        counts = erased.json()
        assert (counts["comments_erased"], counts["published_removed"]) == (1, 1)
        shown = published(api_url, "talks")
        assert mine not in shown and shown[reply]["parent_id"] == mine
        assert httpx.delete(path, headers=ADMIN, timeout=30).json()["comments_erased"] == 0

        events = redis_lib.Redis.from_url(redis_url, decode_responses=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            types = [
                f["type"] for _, f in events.xrange("parley:events") if f["comment_id"] == mine
            ]
            if "comment.erased" in types:
                break
            time.sleep(0.1)
        assert types[-2:] == ["comment.unpublished", "comment.erased"], types
        events.close()
