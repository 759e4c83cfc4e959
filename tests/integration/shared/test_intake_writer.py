"""The host's intake writer (shared/intake/) on real SQLite, PostgreSQL and Redis:
election, batches from several processes' ends, failover, duplicates inside a batch, and
the answer when the writer dies before confirming."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from shared.intake import server
from shared.intake.committer import GroupCommitter
from shared.intake.protocol import (
    COMMENT_FIELDS,
    HEADER,
    CommentsClosed,
    Duplicate,
    NoSuchArticle,
    socket_address,
)
from shared.intake.rows import RowWriter
from shared.models import Comment, CommentHistory, new_id


def _open_article(slug: str) -> tuple[str, bool]:
    return f"https://news.example/{slug}", True


def _row(n: int, **changes) -> dict:
    row = dict(
        id=new_id(),
        article_slug="istanbul-talks",
        article_permalink=None,
        parent_id=None,
        author_name=f"Reader {n}",
        author_email=f"reader{n}@example.org",
        author_url=None,
        content=f"Comment number {n} on the exchange.",
        user_ip="203.0.113.7",
        user_agent="pytest",
        referrer=None,
        accept_language="en",
        honeypot=n % 2 == 1,
        form_token_status="valid",
        form_token_age=12.5,
        author_key=f"{n:064x}",
        author_verified=n % 2 == 0,
        notify=n % 3 == 0,
        fingerprint=uuid.uuid4().hex,
        content_hash=uuid.uuid4().hex,
        idempotency_key=None,
        request_id=f"req-{n}",
        status="received",
        attempts=0,
        publication=0,
        reasons=["a", {"b": 1}],
        akismet={"x": "y"},
    )
    row.update(changes)
    assert set(row) == set(COMMENT_FIELDS)
    return row


@pytest.fixture
def handed_off():
    return []


@pytest.fixture
def writer_pair(container, handed_off):
    """Two ends of one stack, as two api processes would hold them."""
    address = socket_address("test", uuid.uuid4().hex)
    rows = RowWriter(container.stores.moderation_engine, _open_article)
    ends = [GroupCommitter(rows, handed_off.append, address) for _ in range(2)]
    yield ends
    for end in ends:
        end.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rows_keep_every_field_type(backend, container):
    rows = [
        _row(1),
        _row(2, author_url="https://reader.example", form_token_age=None),
        _row(3, reasons=[], akismet={}),  # equal values in a column are converted once
        _row(4, reasons=[], akismet={"x": "z"}),
    ]
    writer = RowWriter(container.stores.moderation_engine, _open_article)
    assert writer.write([dict(r) for r in rows]) == [None] * len(rows)
    with container.stores.moderation() as session:
        stored = {c.id: c for c in session.scalars(select(Comment))}
        history = session.scalars(select(CommentHistory)).all()
    for row in rows:
        comment = stored[row["id"]]
        for name in COMMENT_FIELDS:
            if name == "article_permalink":  # set by the writer from the article
                assert comment.article_permalink == "https://news.example/istanbul-talks"
            else:
                assert getattr(comment, name) == row[name], name
        assert comment.created_at == comment.updated_at
        assert comment.created_at.tzinfo is not None
    assert sorted((h.comment_id, h.actor, h.action, h.to_status) for h in history) == sorted(
        (row["id"], "api", "received", "received") for row in rows
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_batch_larger_than_one_statement_is_stored_whole(backend, container):
    rows = [_row(n) for n in range(100)]  # SQLite: 26 columns, at most 38 rows a statement
    writer = RowWriter(container.stores.moderation_engine, _open_article)
    assert writer.write(rows) == [None] * 100
    with container.stores.moderation() as session:
        stored = dict(session.execute(select(Comment.id, Comment.author_name)).all())
        history = session.scalars(select(CommentHistory.comment_id)).all()
    assert stored == {row["id"]: row["author_name"] for row in rows}
    assert sorted(history) == sorted(stored)


def test_sqlite_keeps_a_batch_statement_journal_in_memory(container):
    # Otherwise each batch of the writer spills its statement journal to a new file.
    with container.stores.moderation_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY


def test_the_article_decides_each_comment_of_a_batch(container):
    articles = {"open": ("https://news.example/open", True), "closed": ("u", False)}
    looked_up = []

    def lookup(slug):
        looked_up.append(slug)
        return articles.get(slug)

    rows = [
        _row(1, article_slug="open"),
        _row(2, article_slug="closed"),
        _row(3, article_slug="gone"),
        _row(4, article_slug="open"),
    ]
    outcomes = RowWriter(container.stores.moderation_engine, lookup).write(rows)
    assert outcomes[0] is None and outcomes[3] is None
    assert isinstance(outcomes[1], CommentsClosed)
    assert isinstance(outcomes[2], NoSuchArticle)
    assert sorted(looked_up) == ["closed", "gone", "open"]  # once per article, not per row
    with container.stores.moderation() as session:
        stored = dict(session.execute(select(Comment.id, Comment.article_permalink)).all())
    assert stored == {
        rows[0]["id"]: "https://news.example/open",
        rows[3]["id"]: "https://news.example/open",
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_duplicate_in_a_batch_costs_only_itself(backend, container):
    first = _row(1)
    twin = _row(2, fingerprint=first["fingerprint"])
    last = _row(3)
    outcomes = RowWriter(container.stores.moderation_engine, _open_article).write(
        [first, twin, last]
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], Duplicate)
    with container.stores.moderation() as session:
        assert set(session.scalars(select(Comment.id))) == {first["id"], last["id"]}


def test_one_writer_serves_every_end(writer_pair, handed_off, container):
    first, second = writer_pair
    first.insert(_row(1))
    assert first.serving and not second.serving
    # The second end's rows are committed and handed off by the first end's writer.
    second.insert(_row(2))
    assert not second.serving
    assert [row["author_name"] for rows in handed_off for row in rows] == [
        "Reader 1",
        "Reader 2",
    ]


def test_concurrent_requests_share_batches(writer_pair, handed_off, container):
    first, second = writer_pair
    first.insert(_row(0))  # elect
    errors = []
    connected, start = threading.Barrier(41), threading.Barrier(40)

    def submit(end, n):
        try:
            end.insert(_row(n))  # each thread's first request opens its connection
            connected.wait()
            start.wait()
            end.insert(_row(100 + n))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(writer_pair[n % 2], n)) for n in range(1, 41)]
    for thread in threads:
        thread.start()
    connected.wait()
    before = len(handed_off)
    for thread in threads:
        thread.join()
    assert errors == []
    with container.stores.moderation() as session:
        assert len(session.scalars(select(Comment.id)).all()) == 81
    assert sum(len(rows) for rows in handed_off) == 81
    batches = [len(rows) for rows in handed_off[before:]]
    assert sum(batches) == 40
    assert max(batches) > 1, "40 requests at once were committed one by one"


def test_comments_in_quick_succession_share_a_batch(writer_pair, handed_off, monkeypatch):
    # A linger far longer than the test: only a batch that fills ends it early.
    monkeypatch.setattr(server, "LINGER_SECONDS", 30.0)
    monkeypatch.setattr(server, "LINGER_AFTER", 30.0)
    first, _ = writer_pair
    first.insert(_row(0))  # elects; the first batch has no batch before it and does not wait
    threads = [
        threading.Thread(target=writer_pair[n % 2].insert, args=(_row(n),))
        for n in range(1, server.LINGER_UNTIL + 1)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert time.monotonic() - started < 20, "the batch waited although it was full"
    # The requests came one by one, on two connections; they were committed together.
    assert [len(rows) for rows in handed_off] == [1, server.LINGER_UNTIL]
    # Right after a full batch (a flood's), the next one does not wait either.
    started = time.monotonic()
    first.insert(_row(100))
    assert time.monotonic() - started < 20, "a batch after a full one waited"
    assert [len(rows) for rows in handed_off] == [1, server.LINGER_UNTIL, 1]


def test_a_small_batch_waits_a_moment_and_a_comment_after_a_quiet_spell_does_not(
    writer_pair, handed_off, monkeypatch
):
    monkeypatch.setattr(server, "LINGER_SECONDS", 0.5)
    monkeypatch.setattr(server, "LINGER_AFTER", 1.0)
    first, _ = writer_pair
    first.insert(_row(0))
    started = time.monotonic()
    first.insert(_row(1))  # right after a batch: it waits for company, then commits alone
    assert time.monotonic() - started >= 0.5
    time.sleep(1.1)  # quiet
    monkeypatch.setattr(server, "LINGER_SECONDS", 30.0)
    started = time.monotonic()
    first.insert(_row(2))
    assert time.monotonic() - started < 20, "a comment after a quiet spell waited"
    assert [len(rows) for rows in handed_off] == [1, 1, 1]


def test_the_next_request_elects_a_new_writer_when_the_old_one_exits(writer_pair, container):
    first, second = writer_pair
    first.insert(_row(1))
    second.insert(_row(2))
    first.close()  # as when that api process exits
    second.insert(_row(3))
    assert second.serving
    first.insert(_row(4))  # the old end is now a client of the new writer
    assert not first.serving
    with container.stores.moderation() as session:
        assert len(session.scalars(select(Comment.id)).all()) == 4


def test_a_writer_that_dies_before_answering_is_a_503_not_a_hang(container):
    address = socket_address("test", uuid.uuid4().hex)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(1)

    def read_then_die():
        conn, _ = listener.accept()
        (size,) = HEADER.unpack(conn.recv(HEADER.size, socket.MSG_WAITALL))
        conn.recv(size, socket.MSG_WAITALL)
        conn.close()

    thread = threading.Thread(target=read_then_die)
    thread.start()
    end = GroupCommitter(
        RowWriter(container.stores.moderation_engine, _open_article), lambda rows: None, address
    )
    with pytest.raises(OperationalError, match="may or may not be stored"):
        end.insert(_row(1))
    thread.join()
    listener.close()
    end.close()


def test_a_database_error_reaches_every_waiter_as_operational_error(tmp_path):
    from shared.db import make_engine

    # A store with no tables: the insert fails for the whole batch.
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    end = GroupCommitter(
        RowWriter(engine, _open_article),
        lambda rows: None,
        socket_address("test", uuid.uuid4().hex),
    )
    with pytest.raises(OperationalError, match="no such table"):
        end.insert(_row(1))
    end.close()
    engine.dispose()


def test_the_pipelined_task_is_the_message_kombu_would_publish(container, redis_client):
    from shared import taskqueue

    redis_client.delete("checks")
    container.queue.send(taskqueue.CHECK_MANY, ["a", "b"], headers={})
    pipe = container.redis.pipeline(transaction=False)
    container.queue.push(pipe, taskqueue.CHECK_MANY, ["a", "b"])
    pipe.execute()
    pushed, published = (json.loads(m) for m in redis_client.lrange("checks", 0, 1))
    # Ids, tags and the sender's reply address differ per message; the rest must not.
    for message in (pushed, published):
        for key in ("id", "root_id", "origin"):
            message["headers"].pop(key)
        for key in ("correlation_id", "delivery_tag", "reply_to"):
            message["properties"].pop(key, None)
    assert pushed == published
    assert json.loads(base64.b64decode(pushed["body"]))[0] == [["a", "b"]]


def test_a_committed_row_is_queued_and_announced(container, redis_client, article):
    from shared.events import STREAM

    rows = [_row(1, article_slug=article), _row(2, article_slug=article)]
    for row in rows:
        container.committer.insert(row)
    queued = [
        id_
        for message in redis_client.lrange("checks", 0, -1)
        for id_ in json.loads(base64.b64decode(json.loads(message)["body"]))[0][0]
    ]
    assert sorted(queued) == sorted(row["id"] for row in rows)
    events = [fields for _, fields in redis_client.xrange(STREAM)]
    assert sorted((e["type"], e["comment_id"]) for e in events) == sorted(
        ("comment.received", row["id"]) for row in rows
    )


def test_an_unreadable_request_is_refused_and_the_writer_serves_on(writer_pair, container):
    first, second = writer_pair
    first.insert(_row(1))  # elect
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.connect(first.address)
        raw.sendall(HEADER.pack(4 + 9) + (7).to_bytes(4, "big") + b"not json!")
        (size,) = HEADER.unpack(raw.recv(HEADER.size, socket.MSG_WAITALL))
        answer = raw.recv(size, socket.MSG_WAITALL)
    assert answer[:4] == (7).to_bytes(4, "big") and answer[4:5] == b"E"
    second.insert(_row(2))
    assert first.serving
    with container.stores.moderation() as session:
        assert len(session.scalars(select(Comment.id)).all()) == 2


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="needs root, to hold the socket name as another user",
)
def test_another_users_socket_leaves_the_process_to_commit_alone(container, handed_off, caplog):
    """Another user's process holding the writer's socket name must not stop the intake
    (before: every comment was a 503)."""
    address = socket_address("test", uuid.uuid4().hex)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the squatter, as user nobody
        try:
            os.setgid(65534)
            os.setuid(65534)
            squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            squatter.bind(address)
            squatter.listen(8)
            os.write(ready_w, b"x")
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(ready_w)
    end = GroupCommitter(
        RowWriter(container.stores.moderation_engine, _open_article), handed_off.append, address
    )
    try:
        assert os.read(ready_r, 1) == b"x", "the squatter could not take the name"
        end.insert(_row(1))
        end.insert(_row(2))
        with pytest.raises(Duplicate):
            end.insert(_row(3, fingerprint=_row_fingerprint(container, "Reader 1")))
        assert not end.serving
        assert [row["author_name"] for rows in handed_off for row in rows] == [
            "Reader 1",
            "Reader 2",
        ]
        alarms = [r for r in caplog.records if "another user's process" in r.getMessage()]
        assert len(alarms) == 1, "said once, not for every comment"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(ready_r)

    # The name is free again (it vanished with its owner): once the half minute is over,
    # the next request elects this process.
    end.channel.until = 0
    end.insert(_row(4))
    assert end.serving
    with container.stores.moderation() as session:
        assert len(session.scalars(select(Comment.id)).all()) == 3
    end.close()


def _row_fingerprint(container, author_name: str) -> str:
    with container.stores.moderation() as session:
        return session.scalar(select(Comment.fingerprint).where(Comment.author_name == author_name))


@pytest.fixture
def process_ends(make_container, article):
    """Two ends of one stack whose writer runs in a process of its own (the default)."""
    ends = [make_container(intake_writer="process").committer for _ in range(2)]
    yield ends
    for end in ends:
        end.close()


def _alive(pid: int) -> bool:
    from tests.support.procs import stat_fields

    try:
        return stat_fields(pid)[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_writer_process_serves_every_end_and_stops_with_its_own(
    process_ends, container, redis_client, article
):
    from shared.events import STREAM

    first, second = process_ends
    rows = [_row(n, article_slug=article) for n in (1, 2)]
    first.insert(rows[0])
    assert first.serving and not second.serving
    writer = first.writer.proc
    assert writer.pid != os.getpid() and _alive(writer.pid)
    second.insert(rows[1])
    # Stored, queued and announced by the writer process, with this test's settings.
    with container.stores.moderation() as session:
        assert set(session.scalars(select(Comment.id))) == {row["id"] for row in rows}
    queued = [
        id_
        for message in redis_client.lrange("checks", 0, -1)
        for id_ in json.loads(base64.b64decode(json.loads(message)["body"]))[0][0]
    ]
    assert sorted(queued) == sorted(row["id"] for row in rows)
    assert {fields["comment_id"] for _, fields in redis_client.xrange(STREAM)} == {
        row["id"] for row in rows
    }
    first.close()  # as when the api process that started it exits
    assert writer.poll() == 0
    second.insert(_row(3, article_slug=article))
    assert second.serving


def test_a_killed_writer_process_is_replaced_by_the_next_request(process_ends, container, article):
    first, second = process_ends
    first.insert(_row(1, article_slug=article))
    killed = first.writer.proc
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not first.serving
    second.insert(_row(2, article_slug=article))
    assert second.serving and second.writer.proc.pid != killed.pid
    first.insert(_row(3, article_slug=article))  # now a client of the new writer
    assert not first.serving
    with container.stores.moderation() as session:
        assert len(session.scalars(select(Comment.id)).all()) == 3


PARENT = """
import json, sys, time
from shared.bootstrap import bootstrap
parley = bootstrap()
parley.committer.insert(json.loads(sys.stdin.readline()))
print(parley.committer.writer.proc.pid, flush=True)
time.sleep(60)
"""


def test_a_writer_process_outlives_signals_to_its_group_but_not_its_api_process(container, article):
    from shared.config import settings_env
    from tests.support.procs import ROOT, wait_for

    env = {**os.environ, **settings_env(container.settings), "PARLEY_INTAKE_WRITER": "process"}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        parent.stdin.write(json.dumps(_row(1, article_slug=article)) + "\n")
        parent.stdin.flush()
        writer = int(parent.stdout.readline())
        # Ctrl-C in a terminal, or a process manager, signals every process of the group;
        # the writer waits for its api process's last requests and is stopped by it.
        os.kill(writer, signal.SIGINT)
        os.kill(writer, signal.SIGTERM)
        time.sleep(0.5)
        assert _alive(writer)
        parent.kill()  # SIGKILL: no chance to stop its writer
        parent.wait()
        wait_for(lambda: not _alive(writer), 5, "the orphaned writer process to exit")
    finally:
        parent.kill()
        parent.wait()
    with container.stores.moderation() as session:
        assert len(session.scalars(select(Comment.id)).all()) == 1


def test_a_writer_process_that_cannot_start_leaves_a_thread_to_serve(make_container, article):
    parley = make_container(intake_writer="process")
    end = parley.committer
    end.writer_command = lambda fd: (["/nonexistent/python"], dict(os.environ))
    end.insert(_row(1, article_slug=article))
    assert end.serving and end.writer.alive() and not hasattr(end.writer, "proc")
