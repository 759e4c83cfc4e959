"""An api process's side of the socket: one connection to the writer shared by the
process's request threads (:class:`Channel`), or, when the writer cannot be trusted, the
process committing its own comments (:class:`Alone`).

If another user's process holds the socket's name (on a shared host a name derived from
default URLs can be guessed), the connecting process sees that peer's user, refuses it,
and commits its own comments one by one, trying the socket again every half minute.

If the writer dies between reading a row and answering (or does not answer in time), the
request is told so with :class:`AnswerLost`, and its committer looks the row up: it may
well have been committed (see :meth:`shared.intake.committer.GroupCommitter.insert`).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import orjson

from shared.intake.protocol import WAIT_SECONDS, answer_for, frame, frames, send
from shared.intake.rows import RowWriter, store

# How long a process commits alone before it tries the writer's socket again (see Alone).
ALONE_SECONDS = 30.0


class NotSent(Exception):
    """The request never reached the writer: safe to send again elsewhere."""


class AnswerLost(Exception):
    """The request reached the writer, but its answer did not come back (the writer went
    away, or did not answer in time): the row may or may not be committed."""


class _Waiting:
    __slots__ = ("answer", "done")

    def __init__(self):
        # Released by the answer reader: a bare lock is the cheapest one-shot signal
        # between two threads (an Event adds a Condition and a second lock).
        self.done = threading.Lock()
        self.done.acquire()
        self.answer: bytes | None = None  # None: the connection broke first


class Channel:
    """This process's connection to the writer, shared by its request threads."""

    def __init__(self, sock: socket.socket):
        sock.settimeout(None)  # see protocol.send
        self.sock = sock
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.waiting: dict[int, _Waiting] = {}
        self.next_tag = 0
        self.broken = False
        self.reader = threading.Thread(
            target=self._read_answers, name="parley-intake-answers", daemon=True
        )
        self.reader.start()

    def request(self, payload: bytes) -> bytes:
        """The writer's answer to ``payload``. Raises :class:`NotSent` if it could not be
        sent, or :class:`AnswerLost` if it was sent and no answer came."""
        waiting = _Waiting()
        with self.lock:
            if self.broken:
                raise NotSent("the connection to the intake writer is closed")
            self.next_tag = tag = (self.next_tag + 1) & 0xFFFFFFFF
            self.waiting[tag] = waiting
            try:
                send(self.sock, frame(tag, payload), WAIT_SECONDS)
            except OSError as exc:
                # A frame the writer did not receive whole is never processed.
                del self.waiting[tag]
                self._break()
                raise NotSent(str(exc)) from exc
        if not waiting.done.acquire(timeout=WAIT_SECONDS):
            self.waiting.pop(tag, None)
            raise AnswerLost(
                "the intake writer did not confirm the write in time; "
                "the comment may or may not be stored"
            )
        if waiting.answer is None:
            raise AnswerLost(
                "the intake writer went away before confirming the write; "
                "the comment may or may not be stored"
            )
        return waiting.answer

    def _read_answers(self) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    break
                buffer += chunk
                for tag, answer in frames(buffer):
                    # Each entry is taken off exactly once (dict.pop and popitem are
                    # atomic), by this loop, a timed-out request or _break.
                    waiting = self.waiting.pop(tag, None)
                    if waiting is not None:
                        waiting.answer = answer
                        waiting.done.release()
        except OSError:
            pass
        with self.lock:
            self._break()

    def _break(self) -> None:
        """Close the connection and wake everyone still waiting (called under the lock)."""
        self.broken = True
        while self.waiting:
            try:
                _, waiting = self.waiting.popitem()
            except KeyError:
                break
            waiting.done.release()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def close(self) -> None:
        with self.lock:
            if not self.broken:
                self._break()


class Alone:
    """This process commits its own comments, one transaction each: what is left when
    another user's process holds the writer's socket name (on a shared host, a name
    derived from default URLs can be guessed). Slower, but the intake stays up; the
    socket is tried again after :data:`ALONE_SECONDS`."""

    broken = False

    def __init__(self, rows: RowWriter, after_commit):
        self.rows = rows
        self.after_commit = after_commit
        self.pid = os.getpid()
        self.until = time.monotonic() + ALONE_SECONDS

    def request(self, payload: bytes) -> bytes:
        [outcome] = store(self.rows, self.after_commit, [orjson.loads(payload)])
        return answer_for(outcome)

    def close(self) -> None:
        pass
