"""Test data and requests, written once: comment bodies, submitting a comment (over HTTP or
in process) and deciding it, reading back what was decided and published, articles,
moderators' accounts and signed-in dashboard clients.

The HTTP helpers take either a Flask test client or an ``httpx.Client`` with the api's
``base_url``: both have ``post``, ``put``, ``status_code`` and ``text``.
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from shared import accounts
from shared.articles import upsert_article
from shared.db import session_scope
from shared.intake.submit import RequestMeta, submit_comment
from shared.models import Comment, PublishedComment
from shared.moderation import pipeline

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}  # the admin API, with the tests' token

GOOD = {
    "author_name": "Ayşe Yılmaz",
    "author_email": "ayse@example.org",
    "content": "The exchange is a hopeful first step.",
}
# Two links: the default limit holds such a comment (PARLEY_MAX_LINKS).
LINKS = "Visit http://a.example and http://b.example now"

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@news.example"
MOD_EMAIL = "mod@news.example"


# --- comments ---------------------------------------------------------------------------


def reader_email(content: str) -> str:
    """An address of this text's own: texts posted in bulk are many authors, not one
    author's flood, and no author has a record of earlier comments."""
    return f"r{abs(hash(content))}@example.org"


def reader(content: str, **fields) -> dict:
    """A comment body by "Reader", whose address is the text's own (:func:`reader_email`)."""
    return {
        "author_name": "Reader",
        "author_email": reader_email(content),
        "content": content,
        **fields,
    }


def submit(client, slug: str, **fields) -> str:
    """POST a comment to article ``slug``: :data:`GOOD` with ``fields`` over it. Asserts the
    answer is 202 and returns the comment's id."""
    response = client.post(f"/api/v1/articles/{slug}/comments", json={**GOOD, **fields})
    assert response.status_code == 202, response.text
    return json.loads(response.text)["id"]


def submit_in_process(
    container,
    slug: str,
    content: str = "A measured, thoughtful comment.",
    *,
    name: str = "Reader",
    email: str | None = None,
    ip: str = "198.51.100.4",
    user_agent: str | None = "Mozilla/5.0 (X11)",
    referrer: str | None = "https://news.example/talks",
    request_id: str | None = None,
    **fields,
) -> str:
    """Submit a comment as the api does, without HTTP; its id. The author is ``name`` at
    ``email`` (by default an address of the text's own, :func:`reader_email`)."""
    data = {
        "author_name": name,
        "author_email": email or reader_email(content),
        "content": content,
        **fields,
    }
    meta = RequestMeta(user_ip=ip, user_agent=user_agent, referrer=referrer, request_id=request_id)
    return submit_comment(container, slug, data, meta).id


def decided(container, client, slug: str, **fields) -> str:
    """A comment submitted over HTTP (:func:`submit`) and checked at once, in process, as a
    worker would; its id."""
    cid = submit(client, slug, **fields)
    pipeline.check_comment(container, cid)
    return cid


def letters(n: int) -> str:
    """A number spelled in letters: digits do not tell texts apart (see textnorm)."""
    return "".join(chr(ord("a") + int(d)) for d in str(n))


def held(container, client, slug: str, n: int = 0, **fields) -> str:
    """A comment that the check held (two links by default): the ``n``-th of a test, with a
    text and an author of its own. Asserts it was held; its id."""
    fields.setdefault("content", f"{LINKS} (test {letters(n)})")
    fields.setdefault("author_email", f"reader{n}@example.org")
    cid = decided(container, client, slug, **fields)
    assert status_of(container, cid) == "held"
    return cid


def status_of(container, cid: str) -> str:
    """The comment's status in the moderation store."""
    with container.stores.moderation() as session:
        return session.get(Comment, cid).status


def public_ids(container) -> list[str]:
    """The ids of every comment in the article store (what the public can see)."""
    with container.stores.articles() as session:
        return list(session.scalars(sa.select(PublishedComment.id)))


# --- articles ---------------------------------------------------------------------------


def open_article(stores, slug: str, title: str, url: str) -> str:
    """Register article ``slug`` with comments open, straight in the article store of
    ``stores`` (a container's ``.stores``); ``slug``."""
    with session_scope(stores.articles) as session:
        upsert_article(session, slug, {"title": title, "url": url, "comments_open": True})
    return slug


def put_article(client, slug: str, token: str = ADMIN_TOKEN, **fields):
    """PUT article ``slug`` through the admin API with ``token``; the response."""
    return client.put(
        f"/api/v1/admin/articles/{slug}",
        json=fields,
        headers={"Authorization": f"Bearer {token}"},
    )


# --- moderators and the dashboard ----------------------------------------------------------


def make_account(container, email: str, role: str = "moderator", password: str = PASSWORD) -> None:
    """A dashboard account in the container's moderation store."""
    with session_scope(container.stores.moderation) as session:
        accounts.create_moderator(session, email, password, role)


def csrf_token(client, path: str = "/admin/login") -> str:
    """The CSRF token that the dashboard page at ``path`` carries."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login(client, email: str, password: str = PASSWORD, ip: str = "127.0.0.1"):
    """Sign in through the dashboard's login form; the response."""
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


class Dash:
    """A signed-in test client that sends the CSRF token the way dashboard.js does."""

    def __init__(self, client):
        self.client = client
        self.token = csrf_token(client, "/admin/activity")

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def post_json(self, url: str, body: dict):
        return self.client.post(url, json=body, headers={"X-CSRFToken": self.token})

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={**(data or {}), "csrf_token": self.token}, **kwargs)


def signed_in(app, container, email: str, role: str) -> Dash:
    """A new account of ``role``, signed in to the dashboard ``app``."""
    make_account(container, email, role)
    client = app.test_client()
    assert login(client, email).status_code == 303
    return Dash(client)


def stored_comment_row(**values) -> dict:
    """The columns of a ``received`` comment as every schema since mod0001 stores it, with
    ``values`` over them: a row written straight into a store at an older revision, for
    the tests of a migration that must carry it along."""
    from datetime import UTC, datetime

    at = datetime.now(UTC)
    return {
        "article_slug": "istanbul-talks",
        "article_permalink": "https://news.example/istanbul-talks",
        "author_name": "Reader",
        "author_email": "reader@example.org",
        "content": "Stored before the upgrade.",
        "user_ip": "192.0.2.1",
        "honeypot": False,
        "form_token_status": "missing",
        "fingerprint": "f" * 64,
        "content_hash": "c" * 64,
        "status": "received",
        "created_at": at,
        "updated_at": at,
        "attempts": 0,
        "publication": 0,
        "reasons": [],
        "akismet": {},
        **values,
    }
