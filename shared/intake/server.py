"""The elected writer's side of the socket: it reads what has arrived from every api
process, commits it as one batch (:func:`shared.intake.rows.store`), and only then
answers each request with its own outcome. While one batch commits, the next one gathers
in the socket buffers; a small batch right after another waits a moment for more
(:data:`LINGER_SECONDS`), a comment after a quiet spell does not.

The elected process serves either in a thread of its own (:class:`Server`) or, given a
``writer_command`` (``PARLEY_INTAKE_WRITER=process``, the default), in a child process
started with the bound socket (:class:`WriterProcess`, running :mod:`services.intake_writer`,
which calls :func:`serve`). The child keeps the name while it lives, ends with its parent,
and is free to run on any CPU the server may use. In a thread, the writer shares its
process's interpreter lock, and with it the one CPU that process keeps to
(``PARLEY_HTTP_CPU_AFFINITY``), with that process's requests: on two cores that process
ran at 91-96 % CPU while the other used 43-68 % (bench/README.md, "The intake writer in a process
of its own").
"""

from __future__ import annotations

import logging
import selectors
import socket
import subprocess
import threading
import time

import orjson

from shared.intake.protocol import (
    ANSWER_SECONDS,
    COMMENT_FIELDS,
    ERROR,
    WAIT_SECONDS,
    answer_for,
    frame,
    frames,
    same_user,
    send,
)
from shared.intake.rows import RowWriter, store

log = logging.getLogger(__name__)

# Rows per transaction at most; more waiting rows go into the next batch.
MAX_BATCH = 256
# A batch of fewer than LINGER_UNTIL rows that began within LINGER_AFTER of the one
# before, itself of fewer than LINGER_UNTIL rows, waits up to LINGER_SECONDS for more
# before it commits. Each batch is one check task, and a task's fixed costs (its
# message, two transactions, the relay, the reads) were most of a check's CPU: at 100
# comments/s batches held 1.3-1.8 comments, and a task's CPU grew only from 7.6 to 9.4 ms
# between one comment and five (bench/README.md, "Fewer, fuller check tasks"). A comment
# after a quiet spell does not wait: the wait pays only while comments keep coming. Nor
# does a batch after a full one: in a flood batches fill on their own, and waiting there
# broke them up (bench.intake: 11.8 comments a batch instead of 15.8), while large
# batches are what tell the workers to step back (shared.intake.pressure).
LINGER_SECONDS = 0.02
LINGER_AFTER = 0.1
LINGER_UNTIL = 8
_FIELD_SET = frozenset(COMMENT_FIELDS)  # what the writer checks each request against


class Server:
    """The elected writer: reads rows from every connected process, commits them in
    batches and answers each request once its row is committed and handed off."""

    def __init__(self, listener: socket.socket, rows: RowWriter, after_commit):
        self.listener = listener
        self.rows = rows
        self.after_commit = after_commit
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.closing = threading.Event()
        self._last_batch = -1e9  # when the last batch began to gather (monotonic)
        self._last_size = 0  # and its rows
        self.thread = threading.Thread(target=self._run, name="parley-intake-writer", daemon=True)
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def _run(self) -> None:
        try:
            while not self.closing.is_set():
                self._serve_once(timeout=0.2)
            # Closing: the listener is gone; answer what is already on its way.
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and self._serve_once(timeout=0.05):
                pass
        except Exception:  # noqa: BLE001 - a writer that dies must give up its name
            log.exception("the intake writer stopped; another process will take over")
        finally:
            for key in list(self.selector.get_map().values()):
                key.fileobj.close()
            self.selector.close()

    def _serve_once(self, timeout: float) -> int:
        """Read what has arrived, commit it as one batch, answer. Returns the batch size.

        A small batch that follows another closely waits up to :data:`LINGER_SECONDS` for
        more (see there); one that comes after a quiet spell is committed at once."""
        batch: list[tuple[socket.socket, int, dict]] = []
        self._gather(batch, timeout)
        if not batch:
            return 0
        now = time.monotonic()
        if (
            now - self._last_batch < LINGER_AFTER
            and self._last_size < LINGER_UNTIL
            and len(batch) < LINGER_UNTIL
        ):
            deadline = now + LINGER_SECONDS
            while len(batch) < LINGER_UNTIL and (left := deadline - time.monotonic()) > 0:
                self._gather(batch, left)
        self._last_batch, self._last_size = now, len(batch)
        self._commit(batch)
        return len(batch)

    def _gather(self, batch: list, timeout: float) -> None:
        """Add to ``batch`` the rows that arrive within ``timeout`` (those already there
        at once)."""
        for key, _ in self.selector.select(timeout):
            if key.data is None:
                self._accept()
            else:
                self._read(key.fileobj, key.data, batch)
            if len(batch) >= MAX_BATCH:
                return

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # BlockingIOError: none left
                return
            if not same_user(conn):
                log.warning("refused an intake connection from another user")
                conn.close()
                continue
            conn.setblocking(True)  # no timeout: see protocol.send
            self.selector.register(conn, selectors.EVENT_READ, bytearray())

    def _read(self, conn: socket.socket, buffer: bytearray, batch: list) -> None:
        try:
            # What is left waits in the socket for the next batch.
            chunk = conn.recv(1 << 16, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return  # woken for nothing
        except OSError:
            chunk = b""
        if not chunk:
            self.selector.unregister(conn)
            conn.close()
            return
        buffer += chunk
        for tag, payload in frames(buffer):
            try:
                row = orjson.loads(payload)
                if not isinstance(row, dict) or row.keys() != _FIELD_SET:
                    raise ValueError("not a comment row")
            except ValueError as exc:  # a peer's bug: refuse that request, serve the rest
                log.error("unreadable intake request", extra={"error": str(exc)[:200]})
                try:
                    send(conn, frame(tag, ERROR + b"unreadable intake request"), ANSWER_SECONDS)
                except OSError:
                    pass
                continue
            batch.append((conn, tag, row))

    def _commit(self, batch: list[tuple[socket.socket, int, dict]]) -> None:
        outcomes = store(self.rows, self.after_commit, [row for _, _, row in batch])
        answers: dict[socket.socket, list[bytes]] = {}
        for (conn, tag, _), outcome in zip(batch, outcomes, strict=True):
            answers.setdefault(conn, []).append(frame(tag, answer_for(outcome)))
        for conn, framed in answers.items():
            try:
                send(conn, b"".join(framed), ANSWER_SECONDS)
            except OSError:
                pass  # that process is gone; its requests are gone with it

    def close(self) -> None:
        self.closing.set()
        try:
            self.selector.unregister(self.listener)
        except (KeyError, ValueError):
            pass
        self.listener.close()
        self.thread.join(timeout=WAIT_SECONDS)


def serve(listener: socket.socket, rows: RowWriter, after_commit) -> Server:
    """Serve ``listener`` (bound and listening) as the host's writer, in a thread of this
    process: what a writer process (:mod:`services.intake_writer`) runs."""
    listener.setblocking(False)
    return Server(listener, rows, after_commit)


class WriterProcess:
    """The elected writer run as a child process (:mod:`services.intake_writer`): it serves
    ``listener``, whose only holder it becomes, until :meth:`close` or this process ends
    (either closes the pipe on its standard input)."""

    def __init__(self, listener: socket.socket, argv: list[str], env: dict[str, str]):
        self.closing = False
        self.proc = subprocess.Popen(
            argv, env=env, pass_fds=(listener.fileno(),), stdin=subprocess.PIPE
        )
        listener.close()  # the child's copy holds the name from now on
        # Reaps the child and tells if it ends unasked.
        self.thread = threading.Thread(
            target=self._watch, name="parley-intake-writer-watch", daemon=True
        )
        self.thread.start()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _watch(self) -> None:
        code = self.proc.wait()
        if not self.closing:
            log.error(
                "the intake writer process exited; the next request elects another writer",
                extra={"writer_pid": self.proc.pid, "exit_code": code},
            )

    def close(self) -> None:
        """Ask the child to answer what already reached it, then stop."""
        self.closing = True
        self.proc.stdin.close()
        try:
            self.proc.wait(WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(timeout=1)
