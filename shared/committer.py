"""Group commit: many concurrent submissions, one transaction, one fsync.

Each API process runs one committer thread. A request hands over its prepared rows and
waits; the committer takes everything waiting (up to ``max_batch``), inserts it in one
transaction and commits, then wakes each request with its own outcome. The promise is
unchanged: a request is answered only after *its* row is committed. Under load the cost
of the durable write (the fsync, SQLite's single write lock, a PostgreSQL round trip) is
shared by the batch instead of paid per comment; with one request at a time a batch is
one row and nothing waits.

After the commit, and before answering, the committer hands the batch to the workers with
one check task and appends the ``comment.received`` events in one Redis round trip.
"""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.models import Comment, CommentHistory

log = logging.getLogger(__name__)

WAIT_SECONDS = 30.0


class Duplicate(Exception):
    """The row broke a unique constraint (same author and text, or a reused key)."""


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class Pending:
    comment: dict
    history: dict
    # Released by the committer once the outcome is known: a bare lock is the cheapest
    # one-shot signal between two threads (an Event adds a Condition and a second lock).
    done: threading.Lock = field(default_factory=_held_lock)
    error: BaseException | None = None


class GroupCommitter:
    """Batches inserts of new comments; see the module docstring."""

    def __init__(self, engine: Engine, after_commit, max_batch: int = 64, linger: float = 0.002):
        self.engine = engine
        self.after_commit = after_commit  # called with the committed comment rows
        self.max_batch = max_batch
        # How long a batch may wait for company once its first row arrived: at most a
        # couple of milliseconds of latency, in exchange for far fewer commits, fsyncs and
        # queue messages when comments arrive together.
        self.linger = linger
        self._queue: stdlib_queue.SimpleQueue[Pending] = stdlib_queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_thread(self) -> None:
        # Started on first use, so a process forked after creating the app gets its own.
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="parley-committer", daemon=True
                    )
                    self._thread.start()

    def insert(self, comment: dict, history: dict) -> None:
        """Insert one comment and its first history entry; returns once committed.

        Raises :class:`Duplicate` for a unique-constraint violation, the database's
        error if it could not commit, or ``TimeoutError`` if nothing answered in time.
        """
        item = Pending(comment, history)
        self._ensure_thread()
        self._queue.put(item)
        if not item.done.acquire(timeout=WAIT_SECONDS):
            raise TimeoutError("the database did not confirm the write in time")
        if item.error is not None:
            raise item.error

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.linger
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    batch.append(
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else self._queue.get_nowait()
                    )
                except stdlib_queue.Empty:
                    break
            committed = self._commit(batch)
            if committed:
                # Before answering, so a 202 normally means "stored and queued". A broker
                # that is down fails fast (connect refused) and costs only the sweeper's delay.
                try:
                    self.after_commit(committed)
                except Exception:  # never let a hand-off failure kill the committer
                    log.exception("after-commit hand-off failed; the sweeper will queue these")
            for item in batch:
                item.done.release()

    def _commit(self, batch: list[Pending]) -> list[dict]:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(Comment), [item.comment for item in batch])
                conn.execute(insert(CommentHistory), [item.history for item in batch])
            return [item.comment for item in batch]
        except IntegrityError:
            if len(batch) == 1:
                batch[0].error = Duplicate()
                return []
        except DBAPIError as exc:
            for item in batch:
                item.error = exc
            return []
        except Exception as exc:  # noqa: BLE001 - every waiter must get an answer
            log.exception("unexpected error in the committer")
            for item in batch:
                item.error = exc
            return []
        # A duplicate somewhere in the batch: commit the rows one by one to find it.
        committed = []
        for item in batch:
            committed += self._commit([item])
        return committed
