"""An erasure killed with SIGKILL part way, then run again, finishes (issue 26 item 3):
each store's part is all or nothing, and the re-run completes what was left.

The erasure runs in a real child process (``python -c``, the test's settings in its
environment) over many published comments, so that its transactions take long enough to
be killed in the middle: with the stores apart, right after the article store's step
(the public copies gone, the moderation store not committed yet); with one database, half
way through a run of the same size timed first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from shared import events
from shared.config import settings_env
from shared.db import session_scope
from shared.models import Comment, PublishedComment
from shared.models.moderation_store import EventOutbox
from shared.privacy.scrub import tombstone_hash
from tests.support.factories import open_article, stored_comment_row
from tests.support.paths import REPO_ROOT

SLUG = "istanbul-talks"
N = 1500
ERASE = (
    "import sys; print('ready', flush=True); "
    "from shared.bootstrap import bootstrap; from shared.privacy.erase import erase_author; "
    "erase_author(bootstrap(), sys.argv[1], 'delete', 'killer')"
)


def many_published(container, address: str) -> list[str]:
    """``N`` published comments by ``address``, with their public copies, written straight
    into both stores (the pipeline would take minutes)."""
    now = datetime.now(UTC)
    rows = [
        stored_comment_row(
            id=f"{address[:4]}{n:028d}",
            author_email=address,
            author_name="Many",
            content=f"comment number {n}",
            fingerprint=tombstone_hash(f"{address}{n}"),
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
                dict(
                    id=r["id"],
                    article_slug=SLUG,
                    author_name="Many",
                    content=r["content"],
                    published_at=now,
                )
                for r in rows
            ],
        )
    return [r["id"] for r in rows]


def start(container, address: str) -> subprocess.Popen:
    env = {**os.environ, **settings_env(container.settings)}
    proc = subprocess.Popen(
        [sys.executable, "-c", ERASE, address],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().strip() == b"ready"
    return proc


def counts(container, address: str, ids: list[str]) -> tuple[int, int, int]:
    """(comments still under the address, comments erased, public copies left)."""
    with container.stores.moderation_read() as session:
        named = session.scalar(sa.select(sa.func.count()).where(Comment.author_email == address))
        erased = session.scalar(
            sa.select(sa.func.count()).where(Comment.id.in_(ids), Comment.status == "erased")
        )
    with container.stores.articles_read() as session:
        shown = session.scalar(sa.select(sa.func.count()).where(PublishedComment.id.in_(ids)))
    return named, erased, shown


@pytest.mark.timeout(180)
def test_kill_9_mid_erasure_then_rerun(make_container, backend, redis_client):
    container = make_container()
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    address = "many@example.org"
    ids = many_published(container, address)
    if container.stores.shared_database:
        # Time a whole run of the same size, then kill the next one half way.
        timed = many_published(container, "timed@example.org")
        began = time.monotonic()
        assert start(container, "timed@example.org").wait(120) == 0
        took = time.monotonic() - began
        assert counts(container, "timed@example.org", timed) == (0, N, 0)
        proc = start(container, address)
        time.sleep(took / 2)
    else:
        proc = start(container, address)
        deadline = time.monotonic() + 60
        while counts(container, address, ids)[2] and time.monotonic() < deadline:
            time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL, "the erasure finished before it was killed"
    named, erased, shown = counts(container, address, ids)
    # All or nothing in the moderation store.
    assert (named, erased) in ((N, 0), (0, N)), (named, erased)
    if not container.stores.shared_database:
        assert shown == 0  # killed after the article store's step
    rerun = start(container, address)
    assert rerun.wait(120) == 0, rerun.stderr.read().decode()[-2000:]
    assert counts(container, address, ids) == (0, N, 0)
    # Every comment's comment.erased reaches the stream (beat's relay sends what a killed
    # process recorded and could not send).
    events.relay_pending(container, rounds=100)
    with container.stores.moderation_read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(EventOutbox)) == 0
    erased_events = {
        fields["comment_id"]
        for _, fields in redis_client.xrange(events.STREAM)
        if fields["type"] == "comment.erased"
    }
    assert set(ids) <= erased_events
