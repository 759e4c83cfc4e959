"""What the api processes and the host's intake writer say to each other, and how.

Each api process keeps one connection to the writer, shared by its request threads. A
request is a frame [length][tag][row as JSON]; its answer is [length][tag][outcome]. One
thread per process reads the answers and wakes each request by its tag. The writer thus
reads and answers once per process and batch, not once per request: in a process whose
request threads all want the GIL, each system call can cost the writer a switch interval.

The socket's name is derived from the stack's store and Redis URLs (:func:`socket_address`),
so stacks on other stores never meet, and both ends check that the peer runs as the same
user (:func:`same_user`).

Outcomes a request can see: committed (nothing raised), :class:`NoSuchArticle`,
:class:`CommentsClosed`, :class:`Duplicate`, or a :class:`sqlalchemy.exc.OperationalError`
(the API's 503, :func:`unavailable`).
"""

from __future__ import annotations

import hashlib
import os
import select
import socket
import struct
import sys
import tempfile
import time

from sqlalchemy.exc import OperationalError

# How long an end waits on the writer: to connect, to send, for an answer, for it to stop.
WAIT_SECONDS = 30.0
# How long the writer tries to hand a process its answers before giving up on it.
ANSWER_SECONDS = 5.0
HEADER = struct.Struct("!I")
_TAG = struct.Struct("!I")
_PEERCRED = struct.Struct("3i")
# Answers of the writer: one byte, then for an error its message.
OK, _DUPLICATE, _NO_ARTICLE, _CLOSED, ERROR = b"K", b"D", b"N", b"C", b"E"
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
    "author_key",
    "author_verified",
    "notify",
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


class Duplicate(Exception):
    """The row broke a unique constraint (same author and text, or a reused key)."""


class NoSuchArticle(Exception):
    """The comment's article is not registered."""


class CommentsClosed(Exception):
    """The comment's article no longer takes comments."""


_ANSWERS = {Duplicate: _DUPLICATE, NoSuchArticle: _NO_ARTICLE, CommentsClosed: _CLOSED}
_RAISED = {answer: kind for kind, answer in _ANSWERS.items()}


def answer_for(outcome: BaseException | None) -> bytes:
    """The writer's answer for one row's outcome."""
    if outcome is None:
        return OK
    if type(outcome) in _ANSWERS:
        return _ANSWERS[type(outcome)]
    return ERROR + str(getattr(outcome, "orig", outcome))[:500].encode()


def raise_for(answer: bytes) -> None:
    """Return if ``answer`` says the row was committed, else raise what it says."""
    if answer == OK:
        return
    if answer in _RAISED:
        raise _RAISED[answer]()
    raise unavailable(answer[1:].decode(errors="replace"))


def unavailable(message: str) -> OperationalError:
    """The error of a row that could not be committed, or whose fate is unknown (a 503)."""
    return OperationalError("intake writer", None, ConnectionError(message))


def frame(tag: int, payload: bytes) -> bytes:
    """``payload`` framed as the request or answer ``tag``."""
    return HEADER.pack(len(payload) + _TAG.size) + _TAG.pack(tag) + payload


def frames(buffer: bytearray):
    """Take every complete frame off ``buffer``: ``(tag, payload)`` pairs."""
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        if len(buffer) < HEADER.size + size:
            return
        (tag,) = _TAG.unpack_from(buffer, HEADER.size)
        payload = bytes(buffer[HEADER.size + _TAG.size : HEADER.size + size])
        del buffer[: HEADER.size + size]
        yield tag, payload


def send(sock: socket.socket, data: bytes, timeout: float) -> None:
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


def same_user(sock: socket.socket) -> bool:
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
