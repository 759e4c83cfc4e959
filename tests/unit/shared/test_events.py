"""Event fields (docs/contract.md §6)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.events import event_fields


def test_events_of_a_batch_share_their_fields_but_not_their_uuid4_ids():
    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    batch = [event_fields("comment.held", f"c{i}", "istanbul-talks", at) for i in range(50)]
    again = event_fields("comment.held", "c0", "istanbul-talks", at)
    assert [set(fields) for fields in batch] == [set(again)] * 50
    assert {k: v for k, v in batch[0].items() if k != "event_id"} == {
        k: v for k, v in again.items() if k != "event_id"
    }
    # A comment can be held again (a recheck), so its second event is another event.
    ids = [uuid.UUID(fields["event_id"]) for fields in [*batch, again]]
    assert len(set(ids)) == 51 and {i.version for i in ids} == {4}
    assert all(fields["event_id"] == i.hex for fields, i in zip(batch, ids, strict=False))


def test_a_comments_receipt_has_one_event_id_however_often_it_is_written():
    # The intake writer's hand-off can reach Redis and still fail for the writer (the
    # connection breaks before the reply); the sweeper then writes the receipt again. Both
    # copies carry the same event_id, so a consumer can drop the second.
    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    first = event_fields("comment.received", "c1", "istanbul-talks", at)
    assert event_fields("comment.received", "c1", "istanbul-talks", at) == first
    other = event_fields("comment.received", "c2", "istanbul-talks", at)
    assert other["event_id"] != first["event_id"]
    assert uuid.UUID(first["event_id"]).hex == first["event_id"]


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        event_fields("comment.lost", "c1", "istanbul-talks", None)
