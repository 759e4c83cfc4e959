"""Comment ids (shared.models.new_id): UUIDv7, time-ordered, unique, distinct after fork."""

from __future__ import annotations

import os
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


def test_a_forked_child_does_not_repeat_its_parents_ids():
    new_id()  # the parent's generator is in use before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send 100 ids, then leave at once
        os.write(write, "".join(new_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    data = os.read(read, 1 << 16).decode()
    os.close(read)
    # The last 32 bits are random draws: an unreseeded child would repeat the parent's.
    child = {data[i + 24 : i + 32] for i in range(0, len(data), 32)}
    parent = {new_id()[24:] for _ in range(100)}
    assert len(child) == 100 and not child & parent
