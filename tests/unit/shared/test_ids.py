"""Comment ids (shared.models.new_id): UUIDv7, time-ordered, unique (after a fork too: tests/integration/shared/test_ids_after_fork.py)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from shared.models import new_id


def test_an_id_is_a_uuid7_that_starts_with_its_millisecond():
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert len(value) == 32 and value == value.lower()
    parsed = uuid.UUID(value)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert before <= int(value[:12], 16) <= after


def test_later_ids_sort_after_earlier_ones_and_none_repeats():
    ids = []
    for _ in range(5):
        ids += [new_id() for _ in range(2_000)]
        time.sleep(0.002)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert datetime.fromtimestamp(int(ids[-1][:12], 16) / 1000, UTC).year >= 2026
