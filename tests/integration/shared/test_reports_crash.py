"""Reader reports killed with SIGKILL part way (issue 25 item 3): each report is all or
nothing, and the hold it causes comes with it.

A real child process (``python -c``, the test's settings in its environment) reports many
published comments one after another with ``PARLEY_REPORT_THRESHOLD=1``, so that every
report holds its comment, and is killed in the middle. Afterwards, with one database,
every comment has a report exactly when it is held and gone from the article store, with
its ``comment.reported``, ``comment.unpublished`` and ``comment.held`` recorded; with the
stores apart the public copy leaves after the hold's commit, so at most the one comment
in flight may still be shown (as after a moderator's unpublish).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter as Tally
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from shared import events
from shared.config import settings_env
from shared.db import session_scope
from shared.models import Comment, CommentReport, PublishedComment
from tests.support.factories import open_article, stored_comment_row
from tests.support.paths import REPO_ROOT

SLUG = "istanbul-talks"
N = 400
REPORT = (
    "import sys; print('ready', flush=True); "
    "from shared.bootstrap import bootstrap; from shared.moderation import reports; "
    "parley = bootstrap(); reader = reports.reader_for(parley.settings.secret_key, None, '192.0.2.9'); "
    "[reports.file_report(parley, cid, reader, 'spam', 'note') for cid in sys.argv[1].split(',')]"
)


def many_published(container) -> list[str]:
    now = datetime.now(UTC)
    rows = [
        stored_comment_row(
            id=f"rpt{n:029d}",
            content=f"comment number {n}",
            fingerprint=hashlib.sha256(f"report{n}".encode()).hexdigest(),
            status="published",
            published_at=now,
        )
        for n in range(N)
    ]
    with session_scope(container.stores.moderation) as session:
        session.execute(sa.insert(Comment), rows)
    with session_scope(container.stores.articles) as session:
        session.execute(
            sa.insert(PublishedComment),
            [
                dict(id=r["id"], article_slug=SLUG, author_name="R", content="c", published_at=now)
                for r in rows
            ],
        )
    return [r["id"] for r in rows]


def reported(container) -> int:
    with container.stores.moderation_read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(CommentReport))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("backend", ["sqlite", "postgres", "sqlite-split"], indirect=True)
def test_kill_9_mid_reports(make_container, backend, redis_client):
    container = make_container(report_threshold=1)
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    ids = many_published(container)
    proc = subprocess.Popen(
        [sys.executable, "-c", REPORT, ",".join(ids)],
        cwd=REPO_ROOT,
        env={**os.environ, **settings_env(container.settings)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().strip() == b"ready"
    deadline = time.monotonic() + 60
    while reported(container) < N // 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL, "the reports finished before they were killed"
    done = reported(container)
    assert N // 4 <= done < N, done

    with container.stores.moderation_read() as session:
        with_report = set(session.scalars(sa.select(CommentReport.comment_id)))
        held = set(session.scalars(sa.select(Comment.id).where(Comment.status == "held")))
        published = set(session.scalars(sa.select(Comment.id).where(Comment.status == "published")))
    with container.stores.articles_read() as session:
        shown = set(session.scalars(sa.select(PublishedComment.id)))
    assert with_report == held and published == set(ids) - held
    if container.stores.shared_database:
        assert shown == published
    else:
        assert published <= shown and len(shown - published) <= 1, shown - published

    # Every report's events were recorded with it; beat's relay sends what the killed
    # process could not.
    events.relay_pending(container, rounds=100)
    sent = {
        (f["type"], f["comment_id"], f["event_id"])
        for _, f in redis_client.xrange(events.STREAM)
        if f["comment_id"] in held
    }
    types = Tally(type_ for type_, _, _ in sent)
    assert types == {
        "comment.reported": len(held),
        "comment.unpublished": len(held),
        "comment.held": len(held),
    }
