"""Real-browser tests: the dashboard and the api as real gunicorn processes, driven by
headless Chromium (Debian's, via Playwright; scripts/ensure-browser installs it).

One stack for the package (processes take a second or two to start); every test starts from
empty tables and an empty Redis database 13, with its own browser context (cookies).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis as redis_lib
import sqlalchemy as sa

from shared import accounts
from shared.bootstrap import Container
from shared.config import load_settings
from shared.db import session_scope
from shared.migrate import upgrade
from shared.models import ArticleBase, Comment, CommentHistory, ListEntry, ModerationBase, utcnow
from shared.moderation.rules import DEFAULT_LISTS
from shared.textnorm import content_hash, sha256

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
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
REDIS_URL = "redis://127.0.0.1:6379/13"
ADMIN_TOKEN = "browser-admin-token"
PASSWORD = "correct horse battery staple"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One gunicorn process with its log file; always stopped (TERM, then KILL)."""

    def __init__(self, name: str, app: str, env: dict, log_dir: Path):
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                "services/gunicorn_conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        self._log.close()


@dataclass
class Stack:
    api: Server
    dashboard: Server
    container: Container  # on the same database and Redis, for checks and fixtures
    database_url: str

    @property
    def admin_url(self) -> str:
        return self.dashboard.url + "/admin/"


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-browser")
    folder = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{folder}/parley.db"
    upgrade(database_url, database_url)
    redis_lib.Redis.from_url(REDIS_URL).flushdb()
    secret = uuid.uuid4().hex
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("PARLEY_", "PYTHON_AKISMET_", "PROMETHEUS_MULTIPROC_DIR", "GUNICORN_CMD_ARGS")
        )
    }
    env.update(
        PARLEY_ENV="test",
        PARLEY_DATABASE_URL=database_url,
        PARLEY_REDIS_URL=REDIS_URL,
        PARLEY_SECRET_KEY=secret,
        PARLEY_ADMIN_TOKEN=ADMIN_TOKEN,
        PARLEY_HTTP_WORKERS="1",
        PARLEY_RATE_LIMIT="off",
        PARLEY_FLOOD_SECONDS="0",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    api = Server("api", "services.api:create_app()", env, folder)
    dashboard = Server("dashboard", "services.dashboard:create_app()", env, folder)
    container = Container(
        load_settings(
            {},
            env="test",
            database_url=database_url,
            redis_url=REDIS_URL,
            secret_key=secret,
            admin_token=ADMIN_TOKEN,
            rate_limit="off",
            flood_seconds=0,
        )
    )
    try:
        api.wait_ready()
        dashboard.wait_ready()
        yield Stack(api, dashboard, container, database_url)
    finally:
        api.stop()
        dashboard.stop()
        container.close()
        client = redis_lib.Redis.from_url(REDIS_URL)
        client.flushdb()
        client.close()


@pytest.fixture
def fresh(stack):
    """Empty tables (default lists back), empty Redis db 13, and the demo article registered."""
    engine = stack.container.stores.moderation_engine
    with engine.begin() as conn:
        for metadata in (ModerationBase.metadata, ArticleBase.metadata):
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
        conn.execute(
            sa.insert(ListEntry),
            [
                {"kind": k, "value": v, "created_by": "defaults"}
                for k, vs in DEFAULT_LISTS.items()
                for v in vs
            ],
        )
    stack.container.policy_cache.invalidate()
    client = redis_lib.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    response = httpx.put(
        f"{stack.api.url}/api/v1/admin/articles/talks",
        json={"title": "Talks resume", "url": f"{stack.api.url}/articles/talks"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    return stack


def make_account(stack: Stack, email: str, role: str) -> None:
    with session_scope(stack.container.stores.moderation) as session:
        accounts.create_moderator(session, email, PASSWORD, role)


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
