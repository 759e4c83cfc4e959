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
one gathers in the socket buffers: no timer, and no waiting when a comment arrives alone.

The writer is elected by the socket itself: the first api process to bind the socket's
name serves, the others connect. On Linux the name lives in the abstract namespace, so it
disappears with its owner; the next request then elects a new writer. The name is derived
from the stack's store and Redis URLs, so stacks on other stores never meet. Both ends
check that the peer runs as the same user.

The elected process serves either in a thread of its own or, given a ``writer_command``
(``PARLEY_INTAKE_WRITER=process``, the default), in a child process started with the bound
socket (:mod:`services.intake_writer`). The child keeps the name while it lives, ends with
its parent, and is free to run on any CPU the server may use. In a thread, the writer
shares its process's interpreter lock, and with it the one CPU that process keeps to
(``PARLEY_HTTP_CPU_AFFINITY``), with that process's requests: on two cores that process
ran at 91-96 % CPU while the other used 43-68 % (bench/README.md, "The intake writer in a process
of its own").

If another user's process holds the socket's name (on a shared host a name derived from
default URLs can be guessed), the connecting process sees that peer's user, refuses it,
and commits its own comments one by one, trying the socket again every half minute.

Outcomes a request can see: committed (nothing raised), :class:`NoSuchArticle`,
:class:`CommentsClosed`, :class:`Duplicate`, or a :class:`sqlalchemy.exc.OperationalError`
(the API's 503) when the store refused the batch or no writer could be reached. If the
writer dies between reading a row and answering, the request cannot know whether its row
was committed and is told so (also a 503); a row that was committed then is queued by the
sweeper, and a retry with the same ``Idempotency-Key`` gets the first answer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import orjson
from sqlalchemy import Engine, Table, bindparam, insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shared.models import Comment, CommentHistory, history_row, utcnow

log = logging.getLogger(__name__)

WAIT_SECONDS = 30.0
# How long the writer tries to hand a process its answers before giving up on it.
ANSWER_SECONDS = 5.0
# How long a process commits alone before it tries the writer's socket again (see _Alone).
ALONE_SECONDS = 30.0
# Rows per transaction at most; more waiting rows go into the next batch.
MAX_BATCH = 256
_HEADER = struct.Struct("!I")
_TAG = struct.Struct("!I")
_PEERCRED = struct.Struct("3i")
# Answers of the writer: one byte, then for an error its message.
_OK, _DUPLICATE, _NO_ARTICLE, _CLOSED, _ERROR = b"K", b"D", b"N", b"C", b"E"
# The columns a new comment is inserted with; the writer adds the timestamps.
COMMENT_FIELDS = (
    "id",
    "article_slug",
    "article_permalink",
    "parent_id",
    "author_name",
    "author_email",
    "author_url",
    "content",
    "user_ip",
    "user_agent",
    "referrer",
    "accept_language",
    "honeypot",
    "form_token_status",
    "form_token_age",
    "fingerprint",
    "content_hash",
    "idempotency_key",
    "request_id",
    "status",
    "attempts",
    "publication",
    "reasons",
    "akismet",
)
_FIELD_SET = frozenset(COMMENT_FIELDS)  # what the writer checks each request against
_STAMPED = ("created_at", "updated_at")
_HISTORY_FIELDS = ("comment_id", "at", "actor", "action", "from_status", "to_status", "note")


class Duplicate(Exception):
    """The row broke a unique constraint (same author and text, or a reused key)."""


class NoSuchArticle(Exception):
    """The comment's article is not registered."""


class CommentsClosed(Exception):
    """The comment's article no longer takes comments."""


_ANSWERS = {Duplicate: _DUPLICATE, NoSuchArticle: _NO_ARTICLE, CommentsClosed: _CLOSED}
_RAISED = {answer: kind for kind, answer in _ANSWERS.items()}


def _answer(outcome: BaseException | None) -> bytes:
    """The writer's answer for one row's outcome."""
    if outcome is None:
        return _OK
    if type(outcome) in _ANSWERS:
        return _ANSWERS[type(outcome)]
    return _ERROR + str(getattr(outcome, "orig", outcome))[:500].encode()


def _unavailable(message: str) -> OperationalError:
    return OperationalError("intake writer", None, ConnectionError(message))


# --- the database side --------------------------------------------------------------------


_UNSET = object()


def _each(process, values: list) -> list:
    """``process`` applied to each of ``values``, converting a run of equal values once: a
    batch shares its timestamp, and every new comment starts with the same empty reasons
    and verdict (bind processors are pure functions of the value)."""
    out = []
    last = last_out = _UNSET
    for value in values:
        if value is not last and not (type(value) is type(last) and value == last):
            last, last_out = value, process(value)
        out.append(last_out)
    return out


class _PreparedInsert:
    """An INSERT compiled once for a dialect, with parameters converted by the column
    types' own bind processors (what SQLAlchemy would do for each row, without rebuilding
    its execution context per row).

    On a driver with positional parameters (SQLite) a batch is one multi-row statement:
    the driver's executemany steps once per row, and each step lets go of the GIL. In a
    process whose request threads all want the GIL back, every such hand-over can cost the
    writer a whole switch interval, and the batch's rows wait for it.
    """

    # Bound parameters per statement: SQLite's historical limit, well below today's.
    MAX_PARAMETERS = 999

    def __init__(self, table: Table, names: tuple[str, ...], engine: Engine):
        dialect = engine.dialect
        compiled = (
            insert(table).values({name: bindparam(name) for name in names}).compile(dialect=dialect)
        )
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup) if dialect.positional else names
        self.positional = dialect.positional
        self.processors = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.names
        ]
        if self.positional:
            head, values = self.sql.rsplit(" VALUES ", 1)
            self._head, self._values = head + " VALUES ", values
            self._per_statement = max(1, self.MAX_PARAMETERS // len(self.names))
            self._sql_for: dict[int, str] = {}

    def _converted(self, rows: list[dict]) -> list[tuple]:
        columns = []
        for name, process in self.processors:
            values = [row[name] for row in rows]
            columns.append(values if process is None else _each(process, values))
        return list(zip(*columns, strict=True))

    def execute(self, conn, rows: list[dict]) -> None:
        """Insert ``rows`` on the SQLAlchemy connection ``conn``."""
        converted = self._converted(rows)
        if not self.positional:
            conn.exec_driver_sql(
                self.sql, [dict(zip(self.names, values, strict=True)) for values in converted]
            )
            return
        step = self._per_statement
        for start in range(0, len(converted), step):
            chunk = converted[start : start + step]
            sql = self._sql_for.get(len(chunk))
            if sql is None:
                sql = self._sql_for[len(chunk)] = self._head + ", ".join(
                    [self._values] * len(chunk)
                )
            conn.exec_driver_sql(sql, tuple(value for values in chunk for value in values))


class RowWriter:
    """Inserts new comments with their first history entry, in one transaction per batch.

    The article decides first: each distinct article of a batch is looked up once, a
    comment on an unknown or closed article is refused, and the others take the article's
    permalink. Checked here rather than in each request, the lookup is shared by the batch
    and sees the article as it is when the comment is stored.
    """

    def __init__(self, engine: Engine, articles):
        self.engine = engine
        self.articles = articles  # slug -> (permalink, comments open) or None
        self._comments = _PreparedInsert(Comment.__table__, COMMENT_FIELDS + _STAMPED, engine)
        self._history = _PreparedInsert(CommentHistory.__table__, _HISTORY_FIELDS, engine)

    def write(self, rows: list[dict]) -> list[BaseException | None]:
        """Insert ``rows``; one outcome per row: None (committed), :class:`NoSuchArticle`,
        :class:`CommentsClosed`, :class:`Duplicate`, or the error that kept it out. A
        refused row or a duplicate in a batch does not cost the others."""
        outcomes: list[BaseException | None] = [None] * len(rows)
        try:
            articles = {slug: self.articles(slug) for slug in {row["article_slug"] for row in rows}}
        except DBAPIError as exc:
            return [exc] * len(rows)
        accepted = []
        for index, row in enumerate(rows):
            article = articles[row["article_slug"]]
            if article is None:
                outcomes[index] = NoSuchArticle()
            elif not article[1]:
                outcomes[index] = CommentsClosed()
            else:
                row["article_permalink"] = article[0]
                accepted.append(index)
        if accepted:
            inserted = self._insert([rows[index] for index in accepted])
            for index, outcome in zip(accepted, inserted, strict=True):
                outcomes[index] = outcome
        return outcomes

    def _insert(self, rows: list[dict]) -> list[BaseException | None]:
        now = utcnow()
        for row in rows:
            row["created_at"] = row["updated_at"] = now
        history = [history_row(row["id"], now, "api", "received", None, "received") for row in rows]
        try:
            with self.engine.begin() as conn:
                self._comments.execute(conn, rows)
                self._history.execute(conn, history)
            return [None] * len(rows)
        except IntegrityError:
            if len(rows) == 1:
                return [Duplicate()]
        except DBAPIError as exc:
            return [exc] * len(rows)
        except Exception as exc:  # noqa: BLE001 - every waiter must get an answer
            log.exception("unexpected error in the intake writer")
            return [exc] * len(rows)
        # A duplicate somewhere in the batch: insert the rows one by one to find it.
        return [outcome for row in rows for outcome in self._insert([row])]


def _store(rows: RowWriter, after_commit, batch: list[dict]) -> list[BaseException | None]:
    """Insert ``batch`` (see :meth:`RowWriter.write`, whose outcomes are returned), then hand
    the committed rows to ``after_commit``.

    The hand-off comes before any request is answered, so a 202 normally means "stored and
    queued". A broker that is down fails fast (connect refused) and costs only the
    sweeper's delay: a failed hand-off is logged, never raised, and the sweeper queues
    those rows.
    """
    outcomes = rows.write(batch)
    committed = [row for row, outcome in zip(batch, outcomes, strict=True) if outcome is None]
    if committed:
        try:
            after_commit(committed)
        except Exception:  # noqa: BLE001 - never let a hand-off failure stop the writer
            log.exception("after-commit hand-off failed; the sweeper will queue these")
    return outcomes


# --- the socket between the api processes and the writer -----------------------------------
#
# Each api process keeps one connection to the writer, shared by its request threads. A
# request is a frame [length][tag][row as JSON]; its answer is [length][tag][outcome]. One
# thread per process reads the answers and wakes each request by its tag. The writer thus
# reads and answers once per process and batch, not once per request: in a process whose
# request threads all want the GIL, each system call can cost the writer a switch interval.


def _frame(tag: int, payload: bytes) -> bytes:
    return _HEADER.pack(len(payload) + _TAG.size) + _TAG.pack(tag) + payload


def _frames(buffer: bytearray):
    """Take every complete frame off ``buffer``: ``(tag, payload)`` pairs."""
    while len(buffer) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buffer)
        if len(buffer) < _HEADER.size + size:
            return
        (tag,) = _TAG.unpack_from(buffer, _HEADER.size)
        payload = bytes(buffer[_HEADER.size + _TAG.size : _HEADER.size + size])
        del buffer[: _HEADER.size + size]
        yield tag, payload


def _send(sock: socket.socket, data: bytes, timeout: float) -> None:
    """Send all of ``data`` on a blocking socket, giving up after ``timeout`` seconds.

    The common case is one system call. A socket with a timeout would first poll, and
    each system call lets go of the GIL: in a process whose request threads all want it
    back, each hand-over can cost a switch interval. So the sockets here have no timeout,
    and a send waits (polls) only when the peer's buffer is full.
    """
    view = memoryview(data)
    deadline = None
    while view:
        try:
            view = view[sock.send(view, socket.MSG_DONTWAIT) :]
            continue
        except BlockingIOError:
            pass
        if deadline is None:
            deadline = time.monotonic() + timeout
        left = deadline - time.monotonic()
        writable = select.poll()
        writable.register(sock, select.POLLOUT)
        if left <= 0 or not writable.poll(left * 1000):
            raise TimeoutError("the peer does not take what is sent to it")


def _same_user(sock: socket.socket) -> bool:
    """Whether the process at the other end runs as this process's user (Linux; elsewhere,
    on development machines, each process has a socket file of its own and no peer)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    _pid, uid, _gid = _PEERCRED.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    )
    return uid == os.getuid()


def socket_address(*keys: str) -> str:
    """The writer's socket for a stack: on Linux a name in the abstract namespace (it
    vanishes with its owner); elsewhere a per-process file (no sharing between processes,
    but the same code path)."""
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:20]
    if sys.platform.startswith("linux"):
        return f"\0parley-intake-{digest}"
    return os.path.join(tempfile.gettempdir(), f"parley-intake-{digest}-{os.getpid()}.sock")


class _Server:
    """The elected writer: reads rows from every connected process, commits them in
    batches and answers each request once its row is committed and handed off."""

    def __init__(self, listener: socket.socket, rows: RowWriter, after_commit):
        self.listener = listener
        self.rows = rows
        self.after_commit = after_commit
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.closing = threading.Event()
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
        """Read what has arrived, commit it as one batch, answer. Returns the batch size."""
        batch: list[tuple[socket.socket, int, dict]] = []
        for key, _ in self.selector.select(timeout):
            if key.data is None:
                self._accept()
            else:
                self._read(key.fileobj, key.data, batch)
            if len(batch) >= MAX_BATCH:
                break
        if batch:
            self._commit(batch)
        return len(batch)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # BlockingIOError: none left
                return
            if not _same_user(conn):
                log.warning("refused an intake connection from another user")
                conn.close()
                continue
            conn.setblocking(True)  # no timeout: see _send
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
        for tag, payload in _frames(buffer):
            try:
                row = orjson.loads(payload)
                if not isinstance(row, dict) or row.keys() != _FIELD_SET:
                    raise ValueError("not a comment row")
            except ValueError as exc:  # a peer's bug: refuse that request, serve the rest
                log.error("unreadable intake request", extra={"error": str(exc)[:200]})
                try:
                    _send(conn, _frame(tag, _ERROR + b"unreadable intake request"), ANSWER_SECONDS)
                except OSError:
                    pass
                continue
            batch.append((conn, tag, row))

    def _commit(self, batch: list[tuple[socket.socket, int, dict]]) -> None:
        outcomes = _store(self.rows, self.after_commit, [row for _, _, row in batch])
        answers: dict[socket.socket, list[bytes]] = {}
        for (conn, tag, _), outcome in zip(batch, outcomes, strict=True):
            answers.setdefault(conn, []).append(_frame(tag, _answer(outcome)))
        for conn, frames in answers.items():
            try:
                _send(conn, b"".join(frames), ANSWER_SECONDS)
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


def serve(listener: socket.socket, rows: RowWriter, after_commit) -> _Server:
    """Serve ``listener`` (bound and listening) as the host's writer, in a thread of this
    process: what a writer process (:mod:`services.intake_writer`) runs."""
    listener.setblocking(False)
    return _Server(listener, rows, after_commit)


class _Process:
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


class _NotSent(Exception):
    """The request never reached the writer: safe to send again elsewhere."""


class _Waiting:
    __slots__ = ("answer", "done")

    def __init__(self):
        # Released by the answer reader: a bare lock is the cheapest one-shot signal
        # between two threads (an Event adds a Condition and a second lock).
        self.done = threading.Lock()
        self.done.acquire()
        self.answer: bytes | None = None  # None: the connection broke first


class _Channel:
    """This process's connection to the writer, shared by its request threads."""

    def __init__(self, sock: socket.socket):
        sock.settimeout(None)  # see _send
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
        """The writer's answer to ``payload``. Raises :class:`_NotSent` if it could not be
        sent, or the 503 error if the connection broke before the answer came."""
        waiting = _Waiting()
        with self.lock:
            if self.broken:
                raise _NotSent("the connection to the intake writer is closed")
            self.next_tag = tag = (self.next_tag + 1) & 0xFFFFFFFF
            self.waiting[tag] = waiting
            try:
                _send(self.sock, _frame(tag, payload), WAIT_SECONDS)
            except OSError as exc:
                # A frame the writer did not receive whole is never processed.
                del self.waiting[tag]
                self._break()
                raise _NotSent(str(exc)) from exc
        if not waiting.done.acquire(timeout=WAIT_SECONDS):
            self.waiting.pop(tag, None)
            raise _unavailable(
                "the intake writer did not confirm the write in time; "
                "the comment may or may not be stored"
            )
        if waiting.answer is None:
            raise _unavailable(
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
                for tag, answer in _frames(buffer):
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


class _Alone:
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
        [outcome] = _store(self.rows, self.after_commit, [orjson.loads(payload)])
        return _answer(outcome)

    def close(self) -> None:
        pass


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
        self._channel: _Channel | None = None
        self._server: _Server | _Process | None = None
        self._pid = os.getpid()

    @property
    def serving(self) -> bool:
        """Whether this process is the host's writer, or started it."""
        return self._server is not None and self._server.alive()

    def insert(self, row: dict) -> None:
        """Insert one new comment (the fields of :data:`COMMENT_FIELDS`) and its first
        history entry; returns once committed and handed off.

        Raises :class:`NoSuchArticle` or :class:`CommentsClosed` if its article does not
        take it, :class:`Duplicate` for a unique-constraint violation, or
        :class:`~sqlalchemy.exc.OperationalError` if it could not be committed or no
        writer answered (nothing is known to be stored then).
        """
        payload = orjson.dumps({name: row[name] for name in COMMENT_FIELDS})
        try:
            answer = self._connected().request(payload)
        except _NotSent:
            # The writer went away before this request reached it: safe to send once
            # more, on a fresh connection (electing a new writer if need be).
            try:
                answer = self._connected().request(payload)
            except _NotSent as exc:
                raise _unavailable(f"cannot reach the intake writer: {exc}") from exc
        if answer == _OK:
            return
        if answer in _RAISED:
            raise _RAISED[answer]()
        raise _unavailable(answer[1:].decode(errors="replace"))

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

    def _usable(self) -> _Channel | _Alone | None:
        channel = self._channel
        if channel is None or channel.broken or channel.pid != os.getpid():
            return None
        if isinstance(channel, _Alone) and time.monotonic() >= channel.until:
            return None  # time to try the socket again
        return channel

    def _connected(self) -> _Channel | _Alone:
        channel = self._usable()
        if channel is not None:
            return channel
        with self._lock:
            channel = self._usable()
            if channel is not None:
                return channel
            for _ in range(20):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(WAIT_SECONDS)  # for connecting; then none (see _send)
                try:
                    sock.connect(self.address)
                except OSError:
                    sock.close()
                    self._elect()
                    continue
                if not _same_user(sock):
                    sock.close()
                    if not isinstance(self._channel, _Alone):  # loud once, not per retry
                        log.error(
                            "another user's process holds the intake writer's socket name; "
                            "this process commits its own comments until it is free",
                            extra={"address": self.address.lstrip("\0")},
                        )
                    self._channel = _Alone(self.rows, self.after_commit)
                    return self._channel
                self._channel = _Channel(sock)
                return self._channel
        raise _unavailable("no intake writer could be reached or started")

    def _elect(self) -> None:
        """Become the host's writer unless another process already is."""
        if self.serving and self._pid == os.getpid():
            return
        if not self.address.startswith("\0") and os.path.exists(self.address):
            os.unlink(self.address)  # a file of this very process id: stale
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.address)
        except OSError:
            listener.close()  # taken: another process won
            time.sleep(0.005)
            return
        listener.listen(256)
        listener.setblocking(False)
        self._pid = os.getpid()
        if self.writer_command is not None:
            try:
                self._server = server = _Process(listener, *self.writer_command(listener.fileno()))
            except OSError:  # a process cannot be started: serve in a thread instead
                log.exception("cannot start the intake writer process; serving in a thread")
            else:
                log.info(
                    "this process started the host's intake writer",
                    extra={"pid": self._pid, "writer_pid": server.proc.pid},
                )
                return
        self._server = _Server(listener, self.rows, self.after_commit)
        log.info("this process is now the host's intake writer", extra={"pid": self._pid})

    def close(self) -> None:
        """Stop serving (after answering what already arrived) and drop this process's
        connection. Another process takes over on its next request."""
        server, self._server = self._server, None
        if server is not None and self._pid == os.getpid():
            server.close()
            if not self.address.startswith("\0") and os.path.exists(self.address):
                os.unlink(self.address)
        channel, self._channel = self._channel, None
        if channel is not None and channel.pid == os.getpid():
            channel.close()
