"""The sweeper re-queues only what is really orphaned (issue 22 item 17), and a recheck
interrupted by a crash stays a recheck (item 18). Real Redis (the checks queue) and real
stores; no worker runs, so the queue holds exactly what was sent."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared import taskqueue
from shared.db import session_scope
from shared.models import Comment, utcnow
from shared.moderation import actions, maintenance, pipeline
from tests.support.factories import open_article, submit_in_process

SLUG = "istanbul-talks"


@pytest.fixture
def parley(container):
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    return container


def backdate(container, ids, **ages: timedelta) -> None:
    """Move columns of ``ids`` into the past: ``created_at=timedelta(minutes=5)``."""
    now = utcnow()
    with session_scope(container.stores.moderation) as session:
        session.execute(
            sa.update(Comment)
            .where(Comment.id.in_(list(ids)))
            .values({column: now - age for column, age in ages.items()})
        )


def queued_tasks(redis_client) -> list[tuple[str, list]]:
    """The check tasks waiting, oldest first: (task name, args)."""
    tasks = []
    for raw in reversed(redis_client.lrange("checks", 0, -1)):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        tasks.append((message["headers"]["task"], args))
    return tasks


def waiting_ids(redis_client) -> list[str]:
    ids = []
    for _, args in queued_tasks(redis_client):
        ids += args[0] if isinstance(args[0], list) else [args[0]]
    return ids


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_queue_that_is_merely_behind_is_not_multiplied(backend, parley, redis_client):
    ids = [submit_in_process(parley, SLUG, f"Comment number {w} on the talks.") for w in "abcdef"]
    # No worker has taken them for five minutes (longer than the lease): they still wait.
    backdate(parley, ids, created_at=timedelta(minutes=5))
    assert sorted(waiting_ids(redis_client)) == sorted(ids)
    assert maintenance.sweep(parley)["check"] == 0
    assert maintenance.sweep(parley)["check"] == 0
    assert sorted(waiting_ids(redis_client)) == sorted(ids)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_lost_check_task_is_queued_again_once_the_queue_has_passed_it(
    backend, parley, redis_client
):
    # Two comments whose tasks Redis lost (a restart without persistence, say), then
    # three queued after them that still wait.
    lost = submit_in_process(parley, SLUG, "A comment whose task Redis lost.")
    redis_client.delete("checks")
    near = submit_in_process(parley, SLUG, "Lost as well, shortly after.")
    redis_client.delete("checks")
    waiting = [submit_in_process(parley, SLUG, f"Queued after them, {w}.") for w in "abc"]
    backdate(parley, [lost], created_at=timedelta(minutes=10))
    backdate(parley, [near], created_at=timedelta(minutes=6))
    backdate(parley, waiting, created_at=timedelta(minutes=5))
    # Queued long before the oldest task still waiting: it is not in the queue.
    assert maintenance.sweep(parley) == {"announced": 0, "check": 1, "publish": 0, "queued": 1}
    assert queued_tasks(redis_client)[-1] == (taskqueue.CHECK, [lost])
    # It waits now, and the next sweep leaves it. So is the one queued within a lease's
    # length of the oldest waiting task (a worker may hold it, or it was queued out of
    # order): left until the queue has passed it.
    assert maintenance.sweep(parley)["check"] == 0
    # The queue works down (here: emptied, its tasks lost): everything unchecked that was
    # queued longer than a lease ago goes back; the one queued just now waits its lease.
    redis_client.delete("checks")
    assert maintenance.sweep(parley)["check"] == 4
    assert sorted(waiting_ids(redis_client)) == sorted([near, *waiting])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_dead_workers_check_is_queued_again_after_its_lease(backend, parley, redis_client):
    busy = [submit_in_process(parley, SLUG, f"Still waiting, {w}.") for w in "ab"]
    cid = submit_in_process(parley, SLUG, "Claimed by a worker that died.")
    backdate(parley, [*busy, cid], created_at=timedelta(minutes=5))
    [lease] = pipeline.claim(parley, [cid])  # its task is spent; the worker dies
    assert maintenance.sweep(parley)["check"] == 0  # the lease still runs
    backdate(parley, [cid], lease_until=timedelta(seconds=1))
    # The queue is behind (older tasks still wait), but this one's task is gone: at once.
    assert maintenance.sweep(parley)["check"] == 1
    assert queued_tasks(redis_client)[-1] == (taskqueue.CHECK, [cid])
    assert maintenance.sweep(parley)["check"] == 0  # queued again, and waiting
    # That task lost too: once the queue has passed it, again.
    redis_client.delete("checks")
    backdate(parley, [cid], queued_at=timedelta(minutes=3))
    assert maintenance.sweep(parley)["check"] == 3
    assert pipeline.check_comment(parley, cid) == "published"
    assert pipeline.check_comments(parley, busy) == ["published", "published"]
    # The dead worker's task, should it come back, finds nothing left to do.
    assert pipeline.check_comment(parley, lease.comment.id) is None


def test_due_rechecks_are_not_queued_again_while_they_wait(
    make_container, akismet_server, redis_client
):
    parley = make_container(
        akismet_api_key="test-key",
        akismet_blog_url="https://news.example",
        akismet_api_url=akismet_server.url,
        akismet_timeout=0.5,
        akismet_retries=1,
    )
    open_article(parley.stores, SLUG, "Talks", "https://news.example/talks")
    akismet_server.set(mode="error500")
    cid = submit_in_process(parley, SLUG)
    assert pipeline.check_comment(parley, cid) == "held"
    redis_client.delete("checks")
    backdate(parley, [cid], akismet_next_check_at=timedelta(seconds=1))
    assert maintenance.queue_rechecks(parley) == {"due": 1, "queued": 1}
    assert maintenance.queue_rechecks(parley) == {"due": 0, "queued": 0}
    assert queued_tasks(redis_client) == [(taskqueue.CHECK, [cid, True])]


def _swept_task(redis_client, cid: str) -> list:
    """The args of the sweeper's task for ``cid`` (the oldest waiting)."""
    name, args = queued_tasks(redis_client)[0]
    assert (name, args[0]) == (taskqueue.CHECK, cid)
    return args


@pytest.mark.parametrize("redone_by", ["sweeper", "redelivery"])
def test_a_recheck_interrupted_by_a_crash_is_redone_as_a_recheck(
    redone_by, akismet_container, akismet_server, redis_client
):
    parley = akismet_container
    open_article(parley.stores, SLUG, "Talks", "https://news.example/talks")
    akismet_server.set(mode="error500")
    cid = submit_in_process(parley, SLUG)
    assert pipeline.check_comment(parley, cid) == "held"
    akismet_server.set(mode="normal")
    backdate(parley, [cid], akismet_next_check_at=timedelta(seconds=1))
    redis_client.delete("checks")
    assert maintenance.queue_rechecks(parley)["queued"] == 1
    [(_, recheck_args)] = queued_tasks(redis_client)
    redis_client.delete("checks")  # a worker takes the task…
    assert pipeline.claim(parley, [cid], recheck=True)  # …claims the comment, and dies
    backdate(parley, [cid], lease_until=timedelta(seconds=1))
    if redone_by == "sweeper":
        assert maintenance.sweep(parley)["check"] == 1
        args = _swept_task(redis_client, cid)
    else:
        args = recheck_args  # the unacknowledged task, delivered again
    assert pipeline.check_comment(parley, *args) == "published"
    last = akismet_server.requests_to("comment-check")[-1]
    assert last["form"].get("recheck_reason") == "retry"
    comment = actions.load(parley, cid)
    assert [h.action for h in comment.history] == ["received", "check", "recheck", "publish"]
    assert comment.akismet["rechecks"] == 1
