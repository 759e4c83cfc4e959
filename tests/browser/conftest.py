"""Real-browser tests: the dashboard and the api as real gunicorn processes, driven by
headless Chromium (Debian's, via Playwright; scripts/ensure-browser installs it).

One stack for the package (processes take a second or two to start); every test starts from
empty tables and an empty (private) Redis, with its own browser context (cookies).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import redis as redis_lib
import sqlalchemy as sa

from shared.bootstrap import Container
from shared.models import ArticleBase, Comment, CommentHistory, ModerationBase, utcnow
from shared.textnorm import content_hash, sha256
from tests.support import factories
from tests.support.factories import PASSWORD, put_article
from tests.support.procs import ROOT, Proc, base_env, stack_values
from tests.support.stack import API, DASHBOARD, Running
from tests.support.stores import sqlite_store, truncate

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_TOKEN = "browser-admin-token"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@dataclass
class Served:
    proc: Proc
    url: str


@dataclass
class Stack:
    api: Served
    dashboard: Served
    container: Container  # on the same database and Redis, for checks and fixtures
    database_url: str
    redis_url: str

    @property
    def admin_url(self) -> str:
        return self.dashboard.url + "/admin/"


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-browser")
    folder = tmp_path_factory.mktemp("browser")
    with Running(folder) as run:
        yield serve(run, folder)


def serve(run: Running, folder, **settings) -> Stack:
    """The api and the dashboard (one gunicorn worker each) on a new SQLite store and a
    private Redis, with ``settings`` over the test ones; stopped with ``run``."""
    database_url = sqlite_store(folder)
    redis_url = run.redis()
    values = stack_values(
        database_url,
        redis_url,
        PARLEY_ENV="test",
        PARLEY_SECRET_KEY=uuid.uuid4().hex,
        PARLEY_ADMIN_TOKEN=ADMIN_TOKEN,
        **settings,
    )
    env = base_env(**values)
    container = run.container(values)
    api = Served(*run.gunicorn(API, env, "api", workers=1))
    dashboard = Served(*run.gunicorn(DASHBOARD, env, "dashboard", workers=1))
    return Stack(api, dashboard, container, database_url, redis_url)


@pytest.fixture
def fresh(stack):
    """Empty tables (default lists back), empty Redis, and the demo article registered."""
    return reset(stack, f"{stack.api.url}/articles/talks")


def reset(stack: Stack, url: str) -> Stack:
    """Empty tables and Redis, and the article "talks" (at ``url``) registered."""
    truncate(stack.database_url, ArticleBase.metadata)
    truncate(stack.database_url, ModerationBase.metadata)
    stack.container.policy_cache.invalidate()
    client = redis_lib.Redis.from_url(stack.redis_url)
    client.flushdb()
    client.close()
    with httpx.Client(base_url=stack.dashboard.url) as client:  # the admin API's
        response = put_article(
            client,
            "talks",
            ADMIN_TOKEN,
            title="Talks resume",
            url=url,
        )
    assert response.status_code == 201, response.text
    return stack


def make_account(stack: Stack, email: str, role: str) -> None:
    """A dashboard account on the stack's store (tests.support.factories.make_account)."""
    factories.make_account(stack.container, email, role)


def insert_comments(
    stack: Stack,
    count: int,
    *,
    status: str = "held",
    article: str = "talks",
    text=None,
    start: int = 0,
) -> list[str]:
    """Bulk-insert decided comments (fast: one statement per table), newest last."""
    now = utcnow()
    rows, history = [], []
    for n in range(start, start + count):
        cid = uuid.uuid4().hex
        content = text(n) if text else f"Comment number {n}: " + " ".join(_words(n))
        at = now.replace(microsecond=0) - timedelta(seconds=count - (n - start))
        rows.append(
            dict(
                id=cid,
                article_slug=article,
                article_permalink=f"http://127.0.0.1/articles/{article}",
                author_name=f"Reader {n}",
                author_email=f"reader{n}@example.org",
                content=content,
                user_ip=f"198.51.100.{n % 250}",
                user_agent="Mozilla/5.0 (test)",
                honeypot=False,
                form_token_status="missing",
                fingerprint=sha256(cid),
                content_hash=content_hash(content),
                status=status,
                created_at=at,
                updated_at=at,
                decided_at=at,
                attempts=1,
                publication=0,
                score=1.0,
                decision=status if status in ("held", "spam") else None,
                reasons=[{"rule": "links", "score": 1.0, "detail": "contains 2 links (limit 2)"}],
                akismet={"verdict": "ham"},
            )
        )
        history.append(
            dict(
                comment_id=cid,
                at=at,
                actor="api",
                action="received",
                from_status=None,
                to_status="received",
            )
        )
        history.append(
            dict(
                comment_id=cid,
                at=at,
                actor="worker",
                action="check",
                from_status="checking",
                to_status=status,
                note="test fixture",
            )
        )
    with stack.container.stores.moderation_engine.begin() as conn:
        conn.execute(sa.insert(Comment), rows)
        conn.execute(sa.insert(CommentHistory), history)
    return [row["id"] for row in rows]


_VOCABULARY = (
    "river",
    "bridge",
    "talks",
    "summit",
    "harbour",
    "treaty",
    "market",
    "valley",
    "winter",
    "lantern",
    "orchard",
    "meadow",
    "station",
    "library",
    "garden",
    "compass",
)


def _words(n: int) -> list[str]:
    # Distinct texts for distinct n: digits alone would not tell texts apart (textnorm).
    words = []
    while True:
        words.append(_VOCABULARY[n % len(_VOCABULARY)])
        n //= len(_VOCABULARY)
        if n == 0:
            return words


@pytest.fixture(scope="package")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) at 1280 px, recording dialogs and page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.dialogs = []
    tab.errors = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def sign_in(
    page, stack: Stack, email: str, password: str = PASSWORD, shot: str | None = None
) -> None:
    page.goto(stack.admin_url)
    assert "/admin/login" in page.url
    page.fill("#email", email)
    page.fill("#password", password)
    if shot:
        screenshot(page, shot)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
