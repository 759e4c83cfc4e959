"""Mail end to end: api, worker, beat and the ``deliver`` process (the ``mail`` queue) as
real processes, a real SMTP server (aiosmtpd in this process), HTTP only from outside.

It measures, and prints, what the issue asks of mail: how long after a comment is held
its moderators' digest arrives (beat's mail tick every second here), and how long after a
reply is published its mail arrives.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from shared import accounts
from shared.db import session_scope
from shared.models import Comment, MailLog
from tests.support.factories import LINKS, PASSWORD, put_article
from tests.support.procs import stack_env, stack_values, wait_for
from tests.support.smtp import SmtpServer
from tests.support.stack import API, DASHBOARD, Running
from tests.support.stores import sqlite_store

pytestmark = pytest.mark.e2e
TOKEN = "e2e-admin-token"
SLUG = "istanbul-talks"
PERIOD_SECONDS = 6.0  # PARLEY_MODERATOR_DIGEST_MINUTES=0.1


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mail-stack")
    smtp = SmtpServer().start()
    with Running(tmp) as run:
        run.callback(smtp.stop)
        db = sqlite_store(tmp)
        redis_url = run.redis()
        extra = dict(
            PARLEY_ADMIN_TOKEN=TOKEN,
            PARLEY_SMTP_URL=smtp.url,
            PARLEY_MAIL_FROM="Comments <comments@news.example>",
            PARLEY_MODERATOR_DIGEST_MINUTES=str(PERIOD_SECONDS / 60),
            PARLEY_MAIL_TICK_SECONDS="1",
            PARLEY_DASHBOARD_URL="https://moderate.example",
            PARLEY_SWEEP_SECONDS="2",
            PARLEY_HTTP_WORKERS="1",
        )
        env = stack_env(db, redis_url, **extra)
        _, url = run.gunicorn(API, env, "api", workers=1)
        _, dashboard_url = run.gunicorn(DASHBOARD, env, "dashboard", workers=1)
        run.worker(env)
        run.deliver(env)
        run.beat(env)
        client = run.enter_context(httpx.Client(base_url=url, timeout=10))
        admin = run.enter_context(httpx.Client(base_url=dashboard_url, timeout=10))
        response = put_article(
            admin, SLUG, TOKEN, title="Istanbul talks", url=f"{url}/articles/{SLUG}"
        )
        assert response.status_code in (200, 201)
        container = run.container(stack_values(db, redis_url, **extra))
        yield {"client": client, "smtp": smtp, "container": container}


def post(client, content: str, name: str, email: str, **extra) -> str:
    client.cookies.clear()
    response = client.post(
        f"/api/v1/articles/{SLUG}/comments",
        json={"author_name": name, "author_email": email, "content": content, **extra},
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def stored(container, cid: str) -> Comment:
    with container.stores.moderation_read() as session:
        return session.get(Comment, cid)


def until(container, cid: str, status: str) -> Comment:
    wait_for(lambda: stored(container, cid).status == status, 30, f"{cid} to be {status}")
    return stored(container, cid)


def arrival(smtp, kind: str, to: str, after: int = 0):
    """The first message of ``kind`` to ``to`` beyond the first ``after`` of them."""
    wait_for(
        lambda: len([r for r in smtp.to(to) if r.message["X-Parley-Mail"] == kind]) > after,
        30,
        f"a {kind} mail to {to}",
    )
    return [r for r in smtp.to(to) if r.message["X-Parley-Mail"] == kind][after]


def seconds_since(at: datetime, received) -> float:
    """From ``at`` (a stored time) to when the SMTP server accepted the message."""
    accepted = datetime.now(UTC).timestamp() - (time.monotonic() - received.at)
    return accepted - at.timestamp()


def test_digest_arrives_soon_after_a_comment_is_held_and_not_more_often(stack, capsys):
    container, smtp, client = stack["container"], stack["smtp"], stack["client"]
    with session_scope(container.stores.moderation) as session:
        accounts.create_moderator(session, "mod@news.example", PASSWORD)
    first = until(container, post(client, f"{LINKS} one", "Ann", "ann@example.org"), "held")
    digest = arrival(smtp, "digest", "mod@news.example")
    lag = seconds_since(first.decided_at, digest)
    assert (
        "https://moderate.example/admin/queue/held"
        in digest.message.get_body(("plain",)).get_content()
    )

    # More work at once: no second digest before the period is over, one after it.
    until(container, post(client, f"{LINKS} two", "Bob", "bob@example.net"), "held")
    again = arrival(smtp, "digest", "mod@news.example", after=1)
    gap = again.at - digest.at  # as received: each send takes its own time
    with container.stores.moderation_read() as session:
        planned = list(
            session.scalars(
                sa.select(MailLog.created_at).where(MailLog.kind == "digest").order_by(MailLog.id)
            )
        )
    assert len(planned) == 2
    assert (planned[1] - planned[0]).total_seconds() >= PERIOD_SECONDS
    with capsys.disabled():
        print(
            f"\n[mail figures] held -> digest received: {lag:.2f} s (tick every 1 s); "
            f"the next digest {gap:.2f} s after the first (period {PERIOD_SECONDS:.0f} s)"
        )
    assert lag < 10


def test_reply_mail_arrives_and_one_click_unsubscribe_stops_the_next(stack, capsys):
    container, smtp, client = stack["container"], stack["smtp"], stack["client"]
    parent = post(client, "Will they free everyone?", "Cem", "cem@example.com", notify=True)
    until(container, parent, "published")
    reply = until(
        container,
        post(client, "Not everyone, sadly.", "Dee", "dee@example.org", parent_id=parent),
        "published",
    )
    got = arrival(smtp, "reply", "cem@example.com")
    lag = seconds_since(reply.published_at, got)
    assert b"dee@example.org" not in got.raw
    with capsys.disabled():
        print(f"\n[mail figures] reply published -> its mail received: {lag:.2f} s")
    # The link names PARLEY_SITE_URL; the api under test listens elsewhere.
    path = "/" + got.message["List-Unsubscribe"].strip("<>").split("/", 3)[3]
    answer = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and answer.json() == {"unsubscribed": True}
    later = post(client, "One more reply.", "Eve", "eve@example.org", parent_id=parent)
    until(container, later, "published")

    def logged():
        with container.stores.moderation_read() as session:
            return session.scalar(sa.select(MailLog.status).where(MailLog.comment_id == later))

    wait_for(lambda: logged() == "skipped", 30, "the reply mail to be skipped")
    assert (
        len([r for r in smtp.to("cem@example.com") if r.message["X-Parley-Mail"] == "reply"]) == 1
    )
