"""Mail (shared/mail) against a real SMTP server (aiosmtpd on 127.0.0.1), real Redis and
real stores: readers' reply and publication mails, the moderators' digest and its timing,
retries through a mail server outage, idempotency, TLS and AUTH, and unsubscribe."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from shared import accounts
from shared.db import session_scope
from shared.mail import delivery, digest, log, notify, optout
from shared.models import CommentReport, MailLog, Moderator, utcnow
from shared.moderation import actions, pipeline
from tests.support.factories import LINKS, PASSWORD, open_article, submit_in_process
from tests.support.smtp import USER, SmtpServer, run_mail_queue, self_signed

SLUG = "istanbul-talks"
ANN, BOB, CEM = "ann@example.org", "bob@example.net", "cem@example.com"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailing(make_container, smtp):
    container = make_container(
        smtp_url=smtp.url,
        site_url="https://comments.example",
        dashboard_url="https://moderate.example",
        mail_from="News comments <comments@news.example>",
    )
    open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/talks")
    return container


def published(container, content, *, name, email, **fields) -> str:
    cid = submit_in_process(container, SLUG, content, name=name, email=email, **fields)
    assert pipeline.check_comment(container, cid) == "published"
    return cid


def held(container, content, *, name, email, **fields) -> str:
    cid = submit_in_process(container, SLUG, f"{LINKS} {content}", name=name, email=email, **fields)
    assert pipeline.check_comment(container, cid) == "held"
    return cid


def addresses_in(raw: bytes) -> set[str]:
    """Every e-mail address a message holds, its Message-ID's domain part aside."""
    found = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", raw.decode()))
    return {a for a in found if not a.split("@")[0].replace(".", "").isdigit()}


def mail_rows(container) -> list[MailLog]:
    with container.stores.moderation_read() as session:
        return list(session.scalars(select(MailLog).order_by(MailLog.id)))


@pytest.mark.parametrize(
    "backend", ["sqlite", "sqlite-split", "postgres", "postgres-split"], indirect=True
)
def test_a_published_reply_mails_the_parent_author_once_and_shows_no_address(
    backend, mailing, smtp, redis_client
):
    parent = published(mailing, "The talks may free dozens.", name="Ann", email=ANN, notify=True)
    run_mail_queue(mailing, redis_client)
    assert smtp.received == []  # her own comment, published at once: nothing to tell her

    reply = published(
        mailing, "I doubt it, the last round failed.", name="Bob", email=BOB, parent_id=parent
    )
    ran = run_mail_queue(mailing, redis_client)
    assert [name for name, _ in ran] == ["parley.mail_published", "parley.send_mail"]

    [got] = smtp.wait(1)
    msg = got.message
    assert got.rcpt_tos == [ANN] and msg["To"] == ANN
    assert msg["From"] == "News comments <comments@news.example>"
    assert "Bob replied to your comment on Istanbul talks" == msg["Subject"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = msg["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://comments.example/api/v1/mail/unsubscribe/")
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert msg.get_content_type() == "multipart/alternative"
    for body in (text, html):
        assert "I doubt it, the last round failed." in body
        assert "The talks may free dozens." in body
        assert f"https://news.example/talks#comment-{reply}" in body
    # The reply's author is shown by name only: no address but the recipient's, anywhere.
    assert addresses_in(got.raw) <= {ANN, "comments@news.example"}
    [row] = mail_rows(mailing)
    assert (row.kind, row.to_address, row.comment_id, row.status) == ("reply", ANN, reply, "sent")
    assert row.detail == {"parent_id": parent} and row.sent_at is not None


def test_no_mail_without_opt_in_for_a_reply_to_oneself_or_without_smtp(
    mailing, smtp, redis_client, make_container
):
    quiet = published(mailing, "No mail for me, thanks.", name="Cem", email=CEM)
    published(mailing, "Replying to Cem without asking.", name="Bob", email=BOB, parent_id=quiet)
    mine = published(mailing, "A thread of my own.", name="Ann", email=ANN, notify=True)
    published(
        mailing, "And a second thought of mine.", name="Ann", email=ANN.upper(), parent_id=mine
    )
    run_mail_queue(mailing, redis_client)
    assert delivery.tick(mailing, utcnow() + timedelta(minutes=5))["planned"] == 0
    run_mail_queue(mailing, redis_client)
    assert smtp.received == [] and mail_rows(mailing) == []

    # Without PARLEY_SMTP_URL nothing is queued for mail at all.
    off = make_container()
    assert not off.settings.mail_configured
    redis_client.delete("mail")
    delivery.after_publication(off, [mine])
    assert redis_client.llen("mail") == 0 and notify.plan_published(off, [mine]) == []


@pytest.mark.parametrize("backend", ["sqlite-split", "postgres"], indirect=True)
def test_a_held_comment_approved_by_a_moderator_mails_its_author(
    backend, mailing, smtp, redis_client
):
    cid = held(mailing, "Sources here.", name="Cem", email=CEM, notify=True)
    other = held(mailing, "Also mine, no mail.", name="Bob", email=BOB)
    actions.moderate(mailing, cid, "approve", actor="mod@news.example")
    actions.moderate(mailing, other, "approve", actor="mod@news.example")
    run_mail_queue(mailing, redis_client)
    [got] = smtp.wait(1)
    assert got.rcpt_tos == [CEM]
    assert got.message["Subject"] == "Your comment on Istanbul talks is published"
    assert "Sources here." in got.message.get_body(("plain",)).get_content()
    assert [(r.kind, r.comment_id, r.status) for r in mail_rows(mailing)] == [
        ("published", cid, "sent")
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_tasks_run_twice_or_at_once_send_one_mail(backend, mailing, smtp, redis_client):
    parent = published(mailing, "First.", name="Ann", email=ANN, notify=True)
    reply = published(mailing, "Second, a reply.", name="Bob", email=BOB, parent_id=parent)
    redis_client.delete("mail")
    # The planning task twice (a redelivery), then the tick's safety net as well.
    first = notify.plan_published(mailing, [reply])
    assert len(first) == 1 and notify.plan_published(mailing, [reply]) == []
    assert delivery.tick(mailing, utcnow() + timedelta(minutes=1))["planned"] == 0
    # Four senders of the same mail at once, then once more after it went.
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(delivery.deliver(mailing, first[0])))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes.append(delivery.deliver(mailing, first[0]))
    assert sorted(outcomes) == ["busy"] * 4 + ["sent"]
    run_mail_queue(mailing, redis_client)
    assert len(smtp.wait(1)) == 1
    [row] = mail_rows(mailing)
    assert (row.status, row.attempts) == ("sent", 1)


def test_mail_server_down_then_up_is_retried_with_backoff_and_not_lost(mailing, smtp, redis_client):
    smtp.stop()
    parent = published(mailing, "Down we go.", name="Ann", email=ANN, notify=True)
    published(mailing, "Still replying.", name="Bob", email=BOB, parent_id=parent)
    ran = run_mail_queue(mailing, redis_client)
    assert ran[-1] == ("parley.send_mail", "retry")
    [row] = mail_rows(mailing)
    assert (row.status, row.attempts) == ("retry", 1) and "Connection" in row.error
    wait = (row.next_attempt_at - row.updated_at).total_seconds()
    assert 0.8 * log.BACKOFF_SECONDS <= wait <= 1.2 * log.BACKOFF_SECONDS

    # Not due yet: the tick leaves it; a send that comes early finds nothing to do.
    assert delivery.tick(mailing)["queued"] == 0
    assert delivery.deliver(mailing, row.id) == "busy"
    # Still down when it is due: a second attempt, waiting about twice as long.
    later = row.next_attempt_at + timedelta(seconds=1)
    assert delivery.tick(mailing, later)["queued"] == 1
    redis_client.delete("mail")
    assert delivery.deliver(mailing, row.id, now=later) == "retry"
    [row] = mail_rows(mailing)
    assert row.attempts == 2
    assert (row.next_attempt_at - row.updated_at).total_seconds() >= 1.6 * log.BACKOFF_SECONDS

    smtp.start()  # the same port, back up
    later = row.next_attempt_at + timedelta(seconds=1)
    assert delivery.tick(mailing, later)["queued"] == 1
    run_mail_queue(mailing, redis_client, now=later)
    assert len(smtp.wait(1)) == 1
    [row] = mail_rows(mailing)
    assert (row.status, row.attempts, row.error) == ("sent", 3, None)


def test_temporary_refusal_is_retried_and_permanent_refusal_fails(mailing, smtp, redis_client):
    smtp.answers = ["451 4.3.0 Try again later"]
    parent = published(mailing, "Greylisted.", name="Ann", email=ANN, notify=True)
    published(mailing, "Reply one.", name="Bob", email=BOB, parent_id=parent)
    assert run_mail_queue(mailing, redis_client)[-1] == ("parley.send_mail", "retry")
    [row] = mail_rows(mailing)
    assert row.error.startswith("451")
    later = row.next_attempt_at + timedelta(seconds=1)
    delivery.tick(mailing, later)
    assert run_mail_queue(mailing, redis_client, now=later) == [("parley.send_mail", "sent")]

    smtp.answers = ["550 5.1.1 No such user"]
    published(mailing, "Reply two.", name="Cem", email=CEM, parent_id=parent)
    assert run_mail_queue(mailing, redis_client)[-1] == ("parley.send_mail", "failed")
    assert [r.status for r in mail_rows(mailing)] == ["sent", "failed"]
    assert delivery.tick(mailing, utcnow() + timedelta(days=1))["queued"] == 0
    assert len(smtp.received) == 1


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls_and_login(mode, make_container, redis_client, tmp_path, monkeypatch):
    """STARTTLS when the server offers it (smtp://), TLS from the start (smtps://), and
    AUTH with a percent-encoded password; the certificate is verified."""
    server = SmtpServer(mode=mode, auth=True, cert=self_signed(tmp_path)).start()
    try:
        container = make_container(smtp_url=server.url)
        open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/talks")
        parent = published(container, "Encrypted?", name="Ann", email=ANN, notify=True)
        published(container, "Yes.", name="Bob", email=BOB, parent_id=parent)
        # Not trusted yet: a certificate error is retried, not sent in the clear.
        assert run_mail_queue(container, redis_client)[-1] == ("parley.send_mail", "retry")
        assert server.received == []
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert[0]))
        [row] = mail_rows(container)
        later = row.next_attempt_at + timedelta(seconds=1)
        delivery.tick(container, later)
        assert run_mail_queue(container, redis_client, now=later) == [("parley.send_mail", "sent")]
        [got] = server.wait(1)
        assert got.tls and got.login == USER
    finally:
        server.stop()


def moderator(container, email: str, **changes) -> int:
    with session_scope(container.stores.moderation) as session:
        account = accounts.create_moderator(session, email, PASSWORD)
        for key, value in changes.items():
            setattr(account, key, value)
        session.flush()
        return account.id


def digests(smtp, address: str) -> list:
    return [r for r in smtp.to(address) if r.message["X-Parley-Mail"] == "digest"]


def test_digest_at_most_once_a_period_and_only_for_new_work(make_container, smtp, redis_client):
    period = timedelta(minutes=30)
    container = make_container(
        smtp_url=smtp.url, dashboard_url="https://moderate.example", moderator_digest_minutes=30
    )
    open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/talks")
    moderator(container, "mod@news.example")
    moderator(container, "away@news.example", disabled=True)
    moderator(container, "quiet@news.example")
    with session_scope(container.stores.moderation) as session:
        optout.opt_out(session, optout.address_hash("quiet@news.example"), "dashboard")

    t0 = utcnow()
    assert delivery.tick(container, t0)["digests"] == 0  # nothing waits
    held(container, "one", name="Ann", email=ANN)
    held(container, "two", name="Bob", email=BOB)
    assert delivery.tick(container, t0)["digests"] == 1
    run_mail_queue(container, redis_client)
    [got] = smtp.wait(1)
    assert got.rcpt_tos == ["mod@news.example"]
    assert got.message["Subject"] == "Parley: waiting for moderation: 2 held"
    text = got.message.get_body(("plain",)).get_content()
    assert "Held: 2  https://moderate.example/admin/queue/held" in text
    assert (
        'href="https://moderate.example/admin/queue/held"'
        in got.message.get_body(("html",)).get_content()
    )
    assert addresses_in(got.raw) == {"mod@news.example"}

    # New work within the period: no second digest until the period is over.
    held(container, "three", name="Cem", email=CEM)
    for at in (t0 + timedelta(minutes=1), t0 + period - timedelta(seconds=1)):
        assert delivery.tick(container, at)["digests"] == 0
    assert delivery.tick(container, t0 + period)["digests"] == 1
    run_mail_queue(container, redis_client)
    assert [d.message["Subject"] for d in digests(smtp, "mod@news.example")][-1] == (
        "Parley: waiting for moderation: 3 held"
    )
    # Nothing new since: the same waiting work is not mailed again, period or not.
    assert delivery.tick(container, t0 + 5 * period)["digests"] == 0
    assert len(smtp.received) == 2
    assert digests(smtp, "away@news.example") == digests(smtp, "quiet@news.example") == []


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_two_ticks_at_once_plan_one_digest(backend, make_container, smtp, redis_client):
    container = make_container(smtp_url=smtp.url, moderator_digest_minutes=60)
    open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/talks")
    moderator(container, "mod@news.example")
    held(container, "racing", name="Ann", email=ANN)
    now, planned = utcnow(), []
    threads = [
        threading.Thread(target=lambda: planned.append(digest.plan_digests(container, now)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(p) for p in planned) == [0, 0, 0, 1]


def test_an_unsubscribed_address_gets_no_more_mail(mailing, smtp, redis_client):
    parent = published(mailing, "Tell me about replies.", name="Ann", email=ANN, notify=True)
    published(mailing, "First reply.", name="Bob", email=BOB, parent_id=parent)
    run_mail_queue(mailing, redis_client)
    [got] = smtp.wait(1)
    token = got.message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    hashed, kind = optout.read_token(mailing.settings.secret_key, token)
    assert (hashed, kind) == (optout.address_hash(ANN), "reply")
    with session_scope(mailing.stores.moderation) as session:
        optout.opt_out(session, hashed, "link")
    published(mailing, "Second reply.", name="Cem", email=CEM, parent_id=parent)
    assert run_mail_queue(mailing, redis_client)[-1] == ("parley.send_mail", "skipped")
    assert len(smtp.received) == 1
    assert [(r.status, r.error) for r in mail_rows(mailing)][-1] == (
        "skipped",
        "the address unsubscribed",
    )
    with mailing.stores.moderation_read() as session:
        assert [m["status"] for m in log.mails_to(session, ANN.upper())] == ["sent", "skipped"]
        assert session.scalar(select(Moderator.id)) is None
    # An erasure (shared.privacy) forgets the mails; the opt-out, a hash, stays.
    with session_scope(mailing.stores.moderation) as session:
        assert log.forget(session, f" {ANN.upper()} ") == 2
    with mailing.stores.moderation_read() as session:
        assert log.mails_to(session, ANN) == [] and optout.opted_out(session, ANN)


def test_the_digest_counts_reported_comments_with_a_link_to_their_page(
    make_container, smtp, redis_client
):
    container = make_container(smtp_url=smtp.url, dashboard_url="https://moderate.example")
    open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/talks")
    moderator(container, "mod@news.example")
    cid = published(container, "Reported by readers.", name="Ann", email=ANN)
    with session_scope(container.stores.moderation) as session:
        for n in range(2):  # two readers' open reports: one comment in Reported
            session.add(
                CommentReport(
                    comment_id=cid, reader_kind="ip", reader_key=f"{n:064x}", reason="spam"
                )
            )
    assert delivery.tick(container)["digests"] == 1
    run_mail_queue(container, redis_client)
    [got] = smtp.wait(1)
    assert got.message["Subject"] == "Parley: waiting for moderation: 1 reported"
    text = got.message.get_body(("plain",)).get_content()
    assert "Reported: 1  https://moderate.example/admin/reported" in text and "Held" not in text


def test_a_sender_that_died_holding_its_claim_is_replaced_after_the_lease(
    mailing, smtp, redis_client
):
    parent = published(mailing, "Who sends this?", name="Ann", email=ANN, notify=True)
    reply = published(
        mailing, "A reply whose sender dies.", name="Bob", email=BOB, parent_id=parent
    )
    redis_client.delete("mail")  # the planning task: run here, its sends not queued
    assert len(notify.plan_published(mailing, [reply])) == 1
    [row] = mail_rows(mailing)
    # A sender claims it and dies (SIGKILL: no outcome recorded).
    now = utcnow()
    with session_scope(mailing.stores.moderation) as session:
        assert log.claim(session, row.id, now) is not None
    assert delivery.deliver(mailing, row.id) == "busy"  # its lease still holds
    assert delivery.tick(mailing, now + log.LEASE - timedelta(seconds=1))["queued"] == 0
    later = now + log.LEASE + timedelta(seconds=1)
    assert delivery.tick(mailing, later)["queued"] == 1
    assert run_mail_queue(mailing, redis_client, now=later) == [("parley.send_mail", "sent")]
    [row] = mail_rows(mailing)
    assert (row.status, row.attempts) == ("sent", 2) and len(smtp.wait(1)) == 1
