"""Group commit across a host: one writer commits the new comments of every api process.

A request hands its prepared row to the host's *intake writer* over a local socket and
waits for the answer. The writer reads everything that has arrived from all processes,
checks each article of the batch once (unknown → 404, closed → 403), inserts the rest in
one transaction, commits, hands the batch to the workers (one check task and the
``comment.received`` events, in one Redis round trip), and only then answers each request
with its own outcome. The promise is unchanged: a request is answered only after *its* row
is committed.

Why one writer per host rather than one per process: the fixed costs of a batch (the
commit and its fsync, the Celery message, the Redis round trip) are shared by every
comment that arrived meanwhile, on any process, and SQLite's single write lock has one
holder instead of several processes queueing for it. While one batch commits, the next
one gathers in the socket buffers. While comments keep coming, a small batch waits a
moment for more (:data:`~shared.intake.server.LINGER_SECONDS`), as each batch is one check
task; a comment after a quiet spell does not wait.

The writer is elected by the socket itself: the first api process to bind the socket's
name serves, the others connect. On Linux the name lives in the abstract namespace, so it
disappears with its owner; the next request then elects a new writer. The name is derived
from the stack's store and Redis URLs, so stacks on other stores never meet. Both ends
check that the peer runs as the same user. The elected process serves in a thread of its
own or, by default, in a child process started with the bound socket; if another user's
process holds the name, a process commits its own comments for a while.

Outcomes a request can see: committed (nothing raised), :class:`NoSuchArticle`,
:class:`CommentsClosed`, :class:`Duplicate`, or a :class:`sqlalchemy.exc.OperationalError`
(the API's 503) when the store refused the batch or no writer could be reached (all in
:mod:`~shared.intake.protocol`). If the writer dies between reading a row and answering
(or does not answer in time), the request looks its row up by the id it prepared: a row
that is in the store is committed (and handed off again, since the writer may have died
before doing so), and only a row that is not there is the 503.

The parts, each in its module of :mod:`shared.intake`, bottom up:

* :mod:`~shared.intake.protocol`: the fields, outcomes, answers and framing both ends
  share, the socket's name and the peer check;
* :mod:`~shared.intake.rows`: the batch insert and the hand-off after it;
* :mod:`~shared.intake.server`: the elected writer, in a thread or a child process;
* :mod:`~shared.intake.client`: a process's connection to the writer, or its commits alone;
* this module: :class:`GroupCommitter`, a process's end, and the election.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

import orjson
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from shared.intake.client import Alone, AnswerLost, Channel, NotSent
from shared.intake.protocol import (
    COMMENT_FIELDS,
    WAIT_SECONDS,
    raise_for,
    same_user,
    unavailable,
)
from shared.intake.rows import RowWriter
from shared.intake.server import Server, WriterProcess
from shared.models import Comment

log = logging.getLogger(__name__)

# How long a request whose answer was lost waits before it looks for its row once more.
CONFIRM_PAUSE = 0.2


def bind_name(address: str) -> socket.socket | None:
    """The writer's socket name ``address`` taken by this process: the listening socket,
    non-blocking; None if another process holds the name."""
    if not address.startswith("\0") and os.path.exists(address):
        os.unlink(address)  # a file of this very process id: stale
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address)
    except OSError:
        listener.close()
        return None
    listener.listen(256)
    listener.setblocking(False)
    return listener


class GroupCommitter:
    """A process's end of the host's intake writer; see the module docstring."""

    def __init__(
        self,
        rows: RowWriter,
        after_commit,
        address: str,
        writer_command: Callable[[int], tuple[list[str], dict[str, str]]] | None = None,
    ):
        self.rows = rows
        self.after_commit = after_commit  # called with the committed comment rows
        self.address = address
        # Given the bound listener's descriptor, the command and environment of a writer
        # process; None: a thread of this process serves.
        self.writer_command = writer_command
        self._lock = threading.Lock()
        # How this process reaches the writer (or commits alone), once it has.
        self.channel: Channel | Alone | None = None
        # The writer this process serves (a thread) or started (a process), if any.
        self.writer: Server | WriterProcess | None = None
        self._pid = os.getpid()

    @property
    def serving(self) -> bool:
        """Whether this process is the host's writer, or started it."""
        return self.writer is not None and self.writer.alive()

    def insert(self, row: dict) -> None:
        """Insert one new comment (the fields of :data:`~shared.intake.protocol.COMMENT_FIELDS`)
        and its first history entry; returns once committed and handed off.

        Raises :class:`NoSuchArticle` or :class:`CommentsClosed` if its article does not
        take it, :class:`Duplicate` for a unique-constraint violation, or
        :class:`~sqlalchemy.exc.OperationalError` if it could not be committed, or no
        writer answered and the row is not in the store.
        """
        fields = {name: row[name] for name in COMMENT_FIELDS}
        payload = orjson.dumps(fields)
        try:
            try:
                answer = self._connected().request(payload)
            except NotSent:
                # The writer went away before this request reached it: safe to send once
                # more, on a fresh connection (electing a new writer if need be).
                try:
                    answer = self._connected().request(payload)
                except NotSent as exc:
                    raise unavailable(f"cannot reach the intake writer: {exc}") from exc
        except AnswerLost as lost:
            self._confirm(fields, lost)
            return
        raise_for(answer)

    def _confirm(self, fields: dict, lost: AnswerLost) -> None:
        """After a lost answer, the row's fate from the store: return if it is committed
        (handing it off: the writer may have died between its commit and its hand-off;
        a second check task finds nothing to claim, and a receipt's event id is the
        comment's own), else raise the 503 error.

        A row that is not there yet is looked for once more a moment later: a writer
        killed just after sending its COMMIT leaves PostgreSQL to finish it.
        """
        for pause in (0.0, CONFIRM_PAUSE):
            time.sleep(pause)
            try:
                with self.rows.engine.connect() as conn:
                    created_at = conn.execute(
                        select(Comment.created_at).where(Comment.id == fields["id"])
                    ).scalar()
            except DBAPIError as exc:
                raise unavailable(f"{lost}; the store cannot be asked: {exc}") from exc
            if created_at is not None:
                break
        else:
            raise unavailable(str(lost)) from lost
        log.warning(
            "the intake writer's answer was lost; the comment is committed",
            extra={"comment_id": fields["id"], "error": str(lost)},
        )
        try:
            self.after_commit([{**fields, "created_at": created_at}])
        except Exception:  # noqa: BLE001 - as the writer's hand-off: the sweeper queues it
            log.exception("after-commit hand-off failed; the sweeper will queue it")

    def connect_soon(self) -> None:
        """Reach the host's writer in the background, electing one (and starting its
        process) if there is none yet, so that the first comment need not wait for it."""
        threading.Thread(
            target=self._connect_quietly, name="parley-intake-connect", daemon=True
        ).start()

    def _connect_quietly(self) -> None:
        try:
            self._connected()
        except Exception as exc:  # noqa: BLE001 - the first comment tries again, and answers
            log.warning("could not reach the intake writer at start", extra={"error": str(exc)})

    def _usable(self) -> Channel | Alone | None:
        channel = self.channel
        if channel is None or channel.broken or channel.pid != os.getpid():
            return None
        if isinstance(channel, Alone) and time.monotonic() >= channel.until:
            return None  # time to try the socket again
        return channel

    def _connected(self) -> Channel | Alone:
        channel = self._usable()
        if channel is not None:
            return channel
        with self._lock:
            channel = self._usable()
            if channel is not None:
                return channel
            for _ in range(20):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(WAIT_SECONDS)  # for connecting; then none (see protocol.send)
                try:
                    sock.connect(self.address)
                except OSError:
                    sock.close()
                    self._elect()
                    continue
                if not same_user(sock):
                    sock.close()
                    if not isinstance(self.channel, Alone):  # loud once, not per retry
                        log.error(
                            "another user's process holds the intake writer's socket name; "
                            "this process commits its own comments until it is free",
                            extra={"address": self.address.lstrip("\0")},
                        )
                    self.channel = Alone(self.rows, self.after_commit)
                    return self.channel
                self.channel = Channel(sock)
                return self.channel
        raise unavailable("no intake writer could be reached or started")

    def _elect(self) -> None:
        """Become the host's writer unless another process already is."""
        if self.serving and self._pid == os.getpid():
            return
        listener = bind_name(self.address)
        if listener is None:  # taken: another process won
            time.sleep(0.005)
            return
        self._pid = os.getpid()
        if self.writer_command is not None:
            try:
                self.writer = writer = WriterProcess(
                    listener, *self.writer_command(listener.fileno())
                )
            except OSError:  # a process cannot be started: serve in a thread instead
                log.exception("cannot start the intake writer process; serving in a thread")
            else:
                log.info(
                    "this process started the host's intake writer",
                    extra={"pid": self._pid, "writer_pid": writer.proc.pid},
                )
                return
        self.writer = Server(listener, self.rows, self.after_commit)
        log.info("this process is now the host's intake writer", extra={"pid": self._pid})

    def close(self) -> None:
        """Stop serving (after answering what already arrived) and drop this process's
        connection. Another process takes over on its next request."""
        writer, self.writer = self.writer, None
        if writer is not None and self._pid == os.getpid():
            writer.close()
            if not self.address.startswith("\0") and os.path.exists(self.address):
                os.unlink(self.address)
        channel, self.channel = self.channel, None
        if channel is not None and channel.pid == os.getpid():
            channel.close()
