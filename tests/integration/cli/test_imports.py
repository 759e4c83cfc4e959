"""``parley import wordpress|disqus`` (docs/contract.md §8) into the real stores, on SQLite
and PostgreSQL, one database or two: what lands where, a rerun adding nothing, a bad file
writing nothing, and a kill -9 in the middle completed exactly by the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bench.exports import (
    DqPost,
    DqThread,
    WPComment,
    WPPost,
    disqus,
    generated_wxr,
    write,
    wxr,
)
from shared.articles import upsert_article
from shared.db import session_scope
from shared.events import STREAM
from shared.imports.records import CommentRecord
from shared.imports.wordpress import WordPress
from shared.models import (
    Article,
    Comment,
    CommentHistory,
    ImportedComment,
    ImportSource,
    PublishedComment,
)
from shared.models.moderation_store import EventOutbox, TrainingExample
from tests.support.metrics import scrape, value

STORY = "https://news.example/2021/03/talks/"


def small_wxr(path):
    comments = [
        WPComment(1, "First! Zürich <b>bold</b>", date_gmt="2021-03-04 10:00:00"),
        WPComment(2, "Reply to 3, before it", parent=3, date_gmt="2021-03-04 12:00:00"),
        WPComment(3, "Reply to 1", parent=1, date_gmt="2021-03-04 11:00:00"),
        WPComment(4, "Buy pills", approved="spam"),
        WPComment(5, "Awaiting", approved="0"),
        WPComment(6, "Binned", approved="trash"),
        WPComment(7, "pinged", type="pingback"),
        WPComment(8, "Parent is gone", parent=999),
        # The same author's same text twice (a double post): both kept.
        WPComment(9, "Twice", email="twice@example.org"),
        WPComment(10, "Twice", email="twice@example.org"),
    ]
    write(
        path,
        wxr(
            [
                WPPost(10, "talks", "Istanbul talks", STORY, comments),
                WPPost(11, "existing", "New title", "https://news.example/existing/", []),
            ]
        ),
    )


def _session(container, model):
    public = model in (Article, PublishedComment)
    return (container.stores.articles_read if public else container.stores.moderation_read)()


def rows(container, *columns, where=None):
    """Rows of the given columns (all of one model)."""
    query = select(*columns) if where is None else select(*columns).where(where)
    with _session(container, columns[0].class_) as session:
        return session.execute(query).all()


def objects(container, model) -> list:
    with _session(container, model) as session:
        return list(session.scalars(select(model)))


def count(container, model) -> int:
    with _session(container, model) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("backend", ["sqlite", "sqlite-split", "postgres", "postgres-split"])
def test_wordpress_import_and_rerun(backend, parley, container, client, redis_client, tmp_path):
    with session_scope(container.stores.articles) as session:
        upsert_article(
            session, "existing", {"title": "Our title", "url": "https://news.example/existing/"}
        )
    path = tmp_path / "wp.xml"
    small_wxr(path)
    before = scrape(container)

    result = parley("import", "wordpress", str(path))
    assert result.exit_code == 0, result.output
    assert "comments: 9 imported (6 published, 1 held, 1 spam, 1 rejected)" in result.output
    assert "1 skipped: 1 pingback" in result.output
    assert "1 replies whose parent is not stored are top-level" in result.output
    assert "articles: 1 created, 1 already registered" in result.output
    assert "1 of those have another title in the file" in result.output

    ids = dict(rows(container, ImportedComment.source_id, ImportedComment.comment_id))
    assert set(ids) == {"1", "2", "3", "4", "5", "6", "8", "9", "10"}
    assert {s for (s,) in rows(container, ImportSource.source)} == {"wordpress:news.example"}
    stored = {row.id: row for row in objects(container, Comment)}
    by_source = {source: stored[cid] for source, cid in ids.items()}
    assert {k: v.status for k, v in by_source.items()} == {
        "1": "published",
        "2": "published",
        "3": "published",
        "4": "spam",
        "5": "held",
        "6": "rejected",
        "8": "published",
        "9": "published",
        "10": "published",
    }
    # Threads: the child read before its parent links to it; a missing parent is dropped.
    assert by_source["2"].parent_id == ids["3"]
    assert by_source["3"].parent_id == ids["1"]
    assert by_source["8"].parent_id is None
    first = by_source["1"]
    assert first.created_at == datetime(2021, 3, 4, 10, 0, tzinfo=UTC)
    assert first.published_at == first.created_at
    assert first.content == "First! Zürich bold"
    assert (first.user_ip, first.author_email, first.akismet) == (
        "192.0.2.1",
        "reader@example.org",
        {"verdict": "skipped", "reason": "imported"},
    )
    assert by_source["9"].fingerprint != by_source["10"].fingerprint

    history = rows(container, CommentHistory.comment_id, CommentHistory.actor, CommentHistory.note)
    assert len(history) == 9 and {h.actor for h in history} == {"import"}
    assert all(h.note.startswith("imported from wordpress") for h in history)

    public = {row.id: row for row in objects(container, PublishedComment)}
    published = {k for k, v in by_source.items() if v.status == "published"}
    assert set(public) == {ids[k] for k in published}
    assert public[ids["2"]].parent_id == ids["3"]
    assert public[ids["8"]].parent_id is None
    assert public[ids["1"]].published_at == datetime(2021, 3, 4, 10, 0, tzinfo=UTC)
    titles = dict(rows(container, Article.slug, Article.title))
    assert titles == {"talks": "Istanbul talks", "existing": "Our title"}

    examples = Counter(
        (row.comment_id in (ids["4"],), row.label, row.source)
        for row in objects(container, TrainingExample)
    )
    assert examples == {(False, 0, "import"): 6, (True, 1, "import"): 1}

    # Events: one comment.published per published comment, nothing else; no submission.
    types = Counter(fields["type"] for _, fields in redis_client.xrange(STREAM))
    assert types == {"comment.published": 6}
    assert count(container, EventOutbox) == 0  # relayed
    after = scrape(container)
    assert value(after, "parley_comments_submitted_total") == value(
        before, "parley_comments_submitted_total"
    )

    # The public API shows the thread, oldest first, with the original dates.
    page = client.get("/api/v1/articles/talks/comments").get_json()
    thread = {ids["1"], ids["2"], ids["3"]}
    assert [(c["id"], c["parent_id"]) for c in page["comments"] if c["id"] in thread] == [
        (ids["1"], None),
        (ids["3"], ids["1"]),
        (ids["2"], ids["3"]),
    ]

    # Run again: nothing added anywhere.
    again = parley("import", "wordpress", str(path))
    assert again.exit_code == 0, again.output
    assert "comments: 0 imported" in again.output and "9 already imported" in again.output
    assert count(container, Comment) == 9 and count(container, CommentHistory) == 9
    assert count(container, PublishedComment) == 6 and count(container, TrainingExample) == 7
    assert redis_client.xlen(STREAM) == 6


@pytest.mark.parametrize("backend", ["sqlite-split", "postgres"])
def test_disqus_import_and_rerun(backend, parley, container, redis_client, tmp_path):
    path = tmp_path / "disqus.xml"
    threads = [
        DqThread("100", "talks", "https://news.example/talks/", "Talks"),
        DqThread("101", "", "https://news.example/2021/no-id/", "No identifier"),
        DqThread("102", "unused", "https://news.example/unused/", "Nobody commented"),
        DqThread("103", "shut", "https://news.example/shut/", "Closed", closed=True),
    ]
    posts = [
        DqPost("2", "100", "<p>reply first</p>", parent="1"),
        DqPost("1", "100", "<p>Привет</p>"),
        DqPost("3", "100", "spam", spam=True),
        DqPost("4", "101", "deleted", deleted=True),
        DqPost("5", "103", "said before it closed"),
    ]
    write(path, disqus(threads, posts))
    result = parley("import", "disqus", str(path))
    assert result.exit_code == 0, result.output
    assert "comments: 5 imported (3 published, 0 held, 1 spam, 1 rejected)" in result.output
    ids = dict(rows(container, ImportedComment.source_id, ImportedComment.comment_id))
    stored = {row.id: row for row in objects(container, Comment)}
    assert stored[ids["2"]].parent_id == ids["1"]
    assert stored[ids["1"]].content == "Привет"
    assert {
        a.slug: (a.url, a.comments_open, a.moderation) for a in objects(container, Article)
    } == {
        "talks": ("https://news.example/talks/", True, "auto"),
        "no-id": ("https://news.example/2021/no-id/", True, "auto"),
        "shut": ("https://news.example/shut/", False, "closed"),
    }
    again = parley("import", "disqus", str(path))
    assert "comments: 0 imported" in again.output and "5 already imported" in again.output
    assert count(container, Comment) == 5 and count(container, PublishedComment) == 3


def test_a_bad_file_exits_2_and_writes_nothing(parley, container, tmp_path):
    good = tmp_path / "good.xml"
    write(good, generated_wxr(300, per_post=20))
    broken = tmp_path / "broken.xml"
    data = good.read_bytes()
    broken.write_bytes(data[: len(data) - 200])  # cut before the end: all comments but one read
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = tmp_path / "xxe.xml"
    xxe.write_text(
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&x;</title>'
        "<link>https://news.example/a</link><wp:comment><wp:comment_id>1</wp:comment_id>"
        "<wp:comment_content>&x;</wp:comment_content></wp:comment></item></channel></rss>"
    )
    for args in (
        ("wordpress", str(xxe)),
        ("wordpress", str(broken)),
        ("disqus", str(good)),  # the wrong format
        ("wordpress", str(tmp_path / "missing.xml")),
    ):
        result = parley("import", *args)
        assert result.exit_code == 2, result.output
        assert "nothing was imported" in result.output and "TOP-SECRET" not in result.output
    assert count(container, Comment) == 0 and count(container, Article) == 0
    assert count(container, ImportSource) == 0
    unknown = parley("import", "blogger", str(good))
    assert unknown.exit_code == 2 and "No such command 'blogger'" in unknown.output


def test_progress_lines_when_not_a_terminal(parley, container, tmp_path):
    path = tmp_path / "wp.xml"
    write(path, generated_wxr(1500, per_post=30))
    result = parley("import", "wordpress", str(path))
    assert result.exit_code == 0, result.output
    assert "1,500 comments in the file" in result.output
    assert "imported 1,500 of 1,500 comments" in result.output


def expected(path) -> tuple[Counter, int]:
    parser = WordPress(str(path))
    parser.scan()
    got = [r for r in parser.records() if isinstance(r, CommentRecord)]
    return Counter(r.status for r in got), len(got)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("backend", ["sqlite", "sqlite-split", "postgres-split"])
def test_killed_mid_import_the_next_run_completes_it_exactly(backend, parley, container, tmp_path):
    path = tmp_path / "wp.xml"
    write(path, generated_wxr(8000, per_post=40))
    statuses, total = expected(path)
    env = {
        **os.environ,
        "PARLEY_ENV": "test",
        "PARLEY_DATABASE_URL": container.settings.database_url,
        "PARLEY_ARTICLE_STORE_URL": container.settings.articles_url,
        "PARLEY_REDIS_URL": container.settings.redis_url,
        "PARLEY_SECRET_KEY": "test-secret",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "import", "wordpress", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while count(container, ImportedComment) == 0:
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    done = count(container, ImportedComment)
    assert 0 < done < total
    # Whole batches only: every stored comment has its history and its ledger entry.
    assert count(container, Comment) == count(container, CommentHistory) == done

    result = parley("import", "wordpress", str(path))
    assert result.exit_code == 0, result.output
    assert f"{done:,} already imported" in result.output
    assert count(container, ImportedComment) == count(container, Comment) == total
    assert count(container, CommentHistory) == total
    by_status = Counter(s for (s,) in rows(container, Comment.status))
    assert by_status == statuses
    assert count(container, PublishedComment) == statuses["published"]
    assert count(container, TrainingExample) == statuses["published"] + statuses["spam"]
    # Every published comment is public once, every public row a published comment.
    public = {i for (i,) in rows(container, PublishedComment.id)}
    assert public == {
        i for (i,) in rows(container, Comment.id, where=Comment.status == "published")
    }


@pytest.mark.timeout(240)
@pytest.mark.parametrize("backend", ["sqlite-split", "postgres"])
def test_two_imports_of_one_file_at_once_store_each_comment_once(backend, container, tmp_path):
    path = tmp_path / "wp.xml"
    write(path, generated_wxr(3000, per_post=25, seed=7))
    statuses, total = expected(path)
    env = {
        **os.environ,
        "PARLEY_ENV": "test",
        "PARLEY_DATABASE_URL": container.settings.database_url,
        "PARLEY_ARTICLE_STORE_URL": container.settings.articles_url,
        "PARLEY_REDIS_URL": container.settings.redis_url,
        "PARLEY_SECRET_KEY": "test-secret",
    }
    command = [sys.executable, "-m", "cli.main", "import", "wordpress", str(path)]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=200)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert count(container, Comment) == count(container, ImportedComment) == total
    assert count(container, CommentHistory) == total
    assert count(container, PublishedComment) == statuses["published"]
    assert count(container, TrainingExample) == statuses["published"] + statuses["spam"]
    assert count(container, ImportSource) == 1


def test_without_redis_the_events_wait_in_the_outbox(parley, container, tmp_path):
    path = tmp_path / "wp.xml"
    small_wxr(path)
    result = parley("import", "wordpress", str(path), PARLEY_REDIS_URL="redis://127.0.0.1:1/0")
    assert result.exit_code == 0, result.output
    assert "events: 6 comment.published (6 wait for the periodic relay" in result.output
    assert count(container, EventOutbox) == 6 and count(container, PublishedComment) == 6


def test_client_data_of_old_imported_comments_goes_at_the_next_retention_run(
    parley, container, redis_client, tmp_path
):
    from shared.privacy import retention

    retention.purge_client_data(container)  # a run before the import: its bound is now
    assert redis_client.exists(retention.WATERMARK)
    path = tmp_path / "wp.xml"
    small_wxr(path)  # comments of 2021, older than PARLEY_IP_RETENTION_DAYS (30)
    assert parley("import", "wordpress", str(path)).exit_code == 0
    assert {ip for (ip,) in rows(container, Comment.user_ip)} == {"192.0.2.1"}
    retention.purge_client_data(container)
    assert {ip for (ip,) in rows(container, Comment.user_ip)} == {""}
    assert {agent for (agent,) in rows(container, Comment.user_agent)} == {None}
