"""Comment ids after a fork (shared.models.new_id): a child never repeats its parent's ids.

An integration test: it forks this process (the unit tests do no I/O).
"""

from __future__ import annotations

import os

from shared.models import new_id


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
