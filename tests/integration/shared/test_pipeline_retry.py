"""A check that fails after its claim gives its leases back, so the task's retry decides the
comments at once instead of finding them leased to itself until the lease runs out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import Comment
from shared.moderation import pipeline
from tests.support.factories import open_article, submit_in_process

SLUG = "istanbul-talks"
# Refuses the decision (checking -> anything else), as a store that fails mid-check would;
# the claim (received -> checking) still goes through.
FAIL_THE_RECORD = """
CREATE TRIGGER fail_the_record BEFORE UPDATE OF status ON comments
WHEN OLD.status = 'checking' AND NEW.status != 'checking'
BEGIN SELECT RAISE(ABORT, 'injected: the store failed while recording'); END
"""


@pytest.fixture
def parley(akismet_container):
    open_article(akismet_container.stores, SLUG, "Talks", "https://news.example/talks")
    return akismet_container


def status_of(container, comment_id) -> str:
    with container.stores.moderation() as session:
        return session.get(Comment, comment_id).status


def test_a_failed_check_gives_its_lease_back_and_the_retry_decides(parley):
    ids = [
        submit_in_process(parley, SLUG, "The exchange is a first step, and a welcome one."),
        submit_in_process(parley, SLUG, "Both delegations deserve credit for the swap."),
    ]
    engine = parley.stores.moderation_engine
    with engine.begin() as conn:
        conn.exec_driver_sql(FAIL_THE_RECORD)
    with pytest.raises(sa.exc.DBAPIError):
        pipeline.check_comments(parley, ids)
    assert [status_of(parley, cid) for cid in ids] == ["checking", "checking"]
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER fail_the_record")
    # The retry, well within the lease (120 s by default): it claims and decides.
    assert pipeline.check_comments(parley, ids) == ["published", "published"]
    assert [status_of(parley, cid) for cid in ids] == ["published", "published"]


def test_a_lease_taken_over_meanwhile_is_not_given_back(parley):
    cid = submit_in_process(parley, SLUG, "A careful, measured comment on the talks.")
    [lease] = pipeline.claim(parley, [cid])
    # Another worker took it over (its lease expired and it was claimed again).
    with parley.stores.moderation_engine.begin() as conn:
        conn.execute(sa.update(Comment).where(Comment.id == cid).values(attempts=lease.token + 1))
    pipeline.release(parley, [lease])
    assert pipeline.claim(parley, [cid]) == []  # still leased to the other worker
