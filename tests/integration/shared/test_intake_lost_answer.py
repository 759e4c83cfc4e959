"""Issue 22, item 19: the answer of a writer that dies after committing.

When the host's intake writer committed a comment and went away before answering, the
request was told that nothing was stored (a 503), and the reader's retry without an
``Idempotency-Key`` was then a 409 for the comment they had been told was lost. The api
knows the id it prepared: it looks the row up, and answers 202 when it is there (handing
it to the workers itself, since the writer may have died before doing so). Only a row
that is not in the store is a 503.

And the demo page's form sends an idempotency key of its own (a hidden field drawn per
page), so that a form sent twice is answered twice the same, with one comment stored.
"""

from __future__ import annotations

import re
import socket
import threading
import uuid

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from services.api import create_app
from shared.bootstrap import intake_writer_parts
from shared.intake.committer import GroupCommitter
from shared.intake.protocol import HEADER, socket_address
from shared.intake.rows import RowWriter
from shared.models import Comment
from tests.support.factories import GOOD


class DyingWriter:
    """A host's writer that takes one request, commits its row with the real row writer
    (or not), and closes the connection without answering: as a writer killed between
    its commit and its answer (or before its commit)."""

    def __init__(self, address: str, rows: RowWriter, commit: bool):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(address)
        self.listener.listen(1)
        self.rows, self.commit = rows, commit
        self.outcomes: list = []
        self.thread = threading.Thread(target=self._serve_one)
        self.thread.start()

    def _serve_one(self) -> None:
        conn, _ = self.listener.accept()
        (size,) = HEADER.unpack(conn.recv(HEADER.size, socket.MSG_WAITALL))
        payload = conn.recv(size, socket.MSG_WAITALL)[4:]  # after the tag
        if self.commit:
            self.outcomes = self.rows.write([orjson.loads(payload)])
        conn.close()

    def close(self) -> None:
        self.thread.join(10)
        self.listener.close()


def _row(article: str) -> dict:
    from shared.models import new_id

    return dict(
        id=new_id(),
        article_slug=article,
        article_permalink=None,
        parent_id=None,
        author_name="Reader",
        author_email="reader@example.org",
        author_url=None,
        content="Committed, then the writer died.",
        user_ip="203.0.113.7",
        user_agent=None,
        referrer=None,
        accept_language=None,
        honeypot=False,
        form_token_status="missing",
        form_token_age=None,
        author_key=None,
        author_verified=False,
        notify=False,
        fingerprint=uuid.uuid4().hex,
        content_hash=uuid.uuid4().hex,
        idempotency_key=None,
        request_id="req-lost",
        status="received",
        attempts=0,
        publication=0,
        reasons=[],
        akismet={},
    )


def stored_ids(container) -> list[str]:
    with container.stores.moderation() as session:
        return list(session.scalars(sa.select(Comment.id)))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_row_committed_before_the_writer_died_is_confirmed(backend, container, article):
    rows, _ = intake_writer_parts(container)
    address = socket_address("test", uuid.uuid4().hex)
    writer = DyingWriter(address, rows, commit=True)
    handed_off: list[list[dict]] = []
    end = GroupCommitter(rows, handed_off.append, address)
    row = _row(article)
    try:
        end.insert(dict(row))  # returns: committed
    finally:
        writer.close()
        end.close()
    assert writer.outcomes == [None]
    assert stored_ids(container) == [row["id"]]
    # The writer may have died before its hand-off: this end makes it.
    [[handed]] = handed_off
    assert handed["id"] == row["id"] and handed["created_at"] is not None


def test_a_row_the_writer_never_committed_is_still_a_503(container, article):
    rows, _ = intake_writer_parts(container)
    address = socket_address("test", uuid.uuid4().hex)
    writer = DyingWriter(address, rows, commit=False)
    end = GroupCommitter(rows, lambda committed: None, address)
    try:
        with pytest.raises(OperationalError, match="may or may not be stored"):
            end.insert(_row(article))
    finally:
        writer.close()
        end.close()
    assert stored_ids(container) == []


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_api_answers_202_when_the_writer_died_after_committing(
    backend, make_container, client, article, redis_client
):
    """Through the api: the stack's writer (the holder of its socket name) commits the
    row and dies unanswered; the reader gets the 202 of the stored comment, and the
    comment is queued and announced."""
    stack = make_container()
    settings = stack.settings
    address = socket_address(settings.database_url, settings.articles_url, settings.redis_url)
    rows, _ = intake_writer_parts(stack)
    writer = DyingWriter(address, rows, commit=True)
    try:
        response = (
            create_app(stack).test_client().post(f"/api/v1/articles/{article}/comments", json=GOOD)
        )
    finally:
        writer.close()
        stack.close_committer()
    assert response.status_code == 202, response.get_data(as_text=True)
    cid = response.get_json()["id"]
    assert stored_ids(stack) == [cid]
    assert redis_client.llen("checks") == 1
    [(_, event)] = redis_client.xrange("parley:events")
    assert (event["type"], event["comment_id"]) == ("comment.received", cid)
    # A retry with the same body is the duplicate of a comment the reader was told of.
    again = client.post(f"/api/v1/articles/{article}/comments", json=GOOD)
    assert again.status_code == 409


def hidden_key(html: str) -> str:
    match = re.search(r'<input type="hidden" name="idempotency_key" value="([^"]+)">', html)
    assert match, "the article page's form carries no idempotency key"
    return match.group(1)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_form_sent_twice_is_one_comment_and_the_same_answer(backend, client, article, container):
    page = client.get(f"/articles/{article}").get_data(as_text=True)
    key = hidden_key(page)
    assert hidden_key(client.get(f"/articles/{article}").get_data(as_text=True)) != key
    form = dict(GOOD, idempotency_key=key)
    browser = {"Accept": "text/html"}
    first = client.post(f"/api/v1/articles/{article}/comments", data=form, headers=browser)
    again = client.post(f"/api/v1/articles/{article}/comments", data=form, headers=browser)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert len(stored_ids(container)) == 1
    # Another reader's form (another key) with other text is a comment of its own.
    other = dict(form, content="A second opinion.", idempotency_key=uuid.uuid4().hex)
    assert client.post(f"/api/v1/articles/{article}/comments", data=other).status_code == 303
    assert len(stored_ids(container)) == 2


def test_a_refused_form_is_shown_again_with_its_key(client, article):
    key = uuid.uuid4().hex
    refused = client.post(
        f"/api/v1/articles/{article}/comments",
        data=dict(GOOD, content="", idempotency_key=key),
        headers={"Accept": "text/html"},
    )
    assert refused.status_code == 422
    assert hidden_key(refused.get_data(as_text=True)) == key


def test_a_form_refused_for_its_key_is_shown_again_with_a_new_one(client, article, container):
    used = uuid.uuid4().hex
    first = client.post(
        f"/api/v1/articles/{article}/comments", data=dict(GOOD, idempotency_key=used)
    )
    assert first.status_code == 303
    other = dict(GOOD, content="Another comment, from a page kept open.", idempotency_key=used)
    refused = client.post(
        f"/api/v1/articles/{article}/comments", data=other, headers={"Accept": "text/html"}
    )
    assert refused.status_code == 422
    fresh = hidden_key(refused.get_data(as_text=True))
    assert fresh != used
    # The page shown again posts as a new comment.
    again = client.post(
        f"/api/v1/articles/{article}/comments", data=dict(other, idempotency_key=fresh)
    )
    assert again.status_code == 303
    assert len(stored_ids(container)) == 2
