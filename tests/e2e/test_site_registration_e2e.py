"""End to end: a new article registered from its page by the first comments, through the
real api (gunicorn, two processes, the intake writer a process of its own) and a worker,
with a real web site on 127.0.0.1 as the newsroom's pages."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.factories import reader
from tests.support.procs import stack_env, wait_for
from tests.support.site import Site
from tests.support.stack import API, Running
from tests.support.stores import sqlite_store

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sites")
    site = Site()
    with Running(tmp) as run:
        db = sqlite_store(tmp)
        env = stack_env(
            db,
            run.redis(),
            PARLEY_SITE_ORIGINS=site.origin,
            PARLEY_SITE_FETCH_TIMEOUT="2",
            PARLEY_HTTP_WORKERS="2",
            PARLEY_RATE_LIMIT="off",
            PARLEY_FLOOD_SECONDS="0",
        )
        _, url = run.gunicorn(API, env, "api")
        run.worker(env)
        client = run.enter_context(httpx.Client(base_url=url, timeout=15))
        yield {"client": client, "site": site}
    site.close()


@pytest.mark.timeout(120)
def test_first_comments_from_many_readers_register_one_article(stack):
    client, site = stack["client"], stack["site"]
    slug = "council-budget"
    page = site.url(f"/story/{slug}")

    def first(i: int) -> httpx.Response:
        body = reader(f"First thoughts number {'abcdefghijklmnop'[i]} on the budget.")
        body.update(article_url=page, article_title="Council-Budget")
        return client.post(
            f"/api/v1/articles/{slug}/comments",
            json=body,
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(first, range(16)))
    assert [a.status_code for a in answers] == [202] * 16, [a.text for a in answers]
    assert site.hits[f"/story/{slug}"] == 1  # one fetch across both api processes
    article = client.get(f"/api/v1/articles/{slug}").json()
    assert article["title"] == "Council-Budget" and article["url"] == page
    # The worker decides them as any comment: clean ones are published.
    wait_for(
        lambda: len(client.get(f"/api/v1/articles/{slug}/comments").json()["comments"]) == 16,
        timeout=60,
        what="the 16 comments published",
    )


def test_a_missing_page_registers_nothing(stack):
    client, site = stack["client"], stack["site"]
    response = client.post(
        "/api/v1/articles/nowhere/comments",
        json={**reader("Is this on?"), "article_url": site.url("/missing")},
    )
    assert response.status_code == 404
    assert "answered 404" in response.json()["detail"]
    assert client.get("/api/v1/articles/nowhere").status_code == 404
