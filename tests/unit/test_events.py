"""Event fields (CONTRACT §6)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.events import event_fields


def test_events_of_a_batch_share_their_fields_but_not_their_uuid4_ids():
    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    batch = [event_fields("comment.received", f"c{i}", "istanbul-talks", at) for i in range(50)]
    single = event_fields("comment.received", "c0", "istanbul-talks", at)
    assert [set(fields) for fields in batch] == [set(single)] * 50
    assert {k: v for k, v in batch[0].items() if k != "event_id"} == {
        k: v for k, v in single.items() if k != "event_id"
    }
    ids = [uuid.UUID(fields["event_id"]) for fields in batch]
    assert len(set(ids)) == 50 and {i.version for i in ids} == {4}
    assert all(fields["event_id"] == i.hex for fields, i in zip(batch, ids, strict=True))


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        event_fields("comment.lost", "c1", "istanbul-talks", None)
