"""Which webhook URLs Parley calls (docs/contract.md §4): ``http`` or ``https`` only, and,
unless ``PARLEY_WEBHOOK_ALLOW_PRIVATE=1``, never a host that resolves to an address on
loopback, link-local, private, shared or reserved space, nor multicast: a webhook must not
be a way into the newsroom's own network (SSRF).

Every address a name resolves to is checked, at registration and again at every
connection (:class:`GuardedBackend`): a name that pointed outside at registration and
inside later (DNS rebinding) is refused when it matters, and the connection is made to the
address that was checked. Redirects are never followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpcore

from shared.netguard import refused_reason

MAX_URL = 2048


class AddressRefused(ValueError):
    """The URL's host is, or resolves to, an address webhooks may not call."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a literal address: itself), in the resolver's
    order. Raises :class:`AddressRefused` if it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{host} does not resolve ({exc})") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses of ``host`` to connect to; raises :class:`AddressRefused` if any of
    them is refused (a name with one private address among public ones is refused whole:
    which one a client picks is not ours to know)."""
    addresses = resolve(host, port)
    if not allow_private:
        for address in addresses:
            reason = refused_reason(address)
            if reason:
                raise AddressRefused(f"{host} resolves to {reason}")
    return addresses


def url_errors(url: object, allow_private: bool) -> list[str]:
    """What is wrong with ``url`` as a webhook URL (empty: nothing). Resolves the host
    unless private addresses are allowed."""
    if not isinstance(url, str) or not url:
        return ["must be an http:// or https:// URL"]
    if len(url) > MAX_URL:
        return [f"must be at most {MAX_URL} characters"]
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return ["must not contain spaces or control characters"]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ["is not a valid URL"]
    if parts.scheme not in ("http", "https"):
        return ["must be an http:// or https:// URL"]
    if not parts.hostname:
        return ["must name a host"]
    if parts.username is not None or parts.password is not None:
        return ["must not carry credentials; receivers check the signature instead"]
    if parts.fragment:
        return ["must not have a #fragment"]
    if allow_private:
        return []
    try:
        checked_addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80), False)
    except AddressRefused as exc:
        return [f"is refused: {exc}"]
    return []


# The moment (time.monotonic()) by which this thread's exchange must be over: httpcore's
# timeouts bound each read and write, so a receiver trickling its answer a byte at a time
# could otherwise hold a delivery thread far longer than the timeout.
_deadline = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every read, write and TLS handshake of this thread's connections, within the block,
    ends by ``seconds`` from now (httpcore.ReadTimeout/WriteTimeout past it)."""
    _deadline.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _deadline.at = None


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the delivery's time is up")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the thread's :func:`deadline`."""

    def __init__(self, stream: httpcore.NetworkStream):
        self.stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        left = _left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str):
        return self.stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, resolving and checking each host as it connects, then
    connecting to a checked address (TLS still verifies the host's name); every connection
    keeps to the thread's :func:`deadline`."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = checked_addresses(host, port, self.allow_private)
        error: Exception | None = None
        for address in addresses:
            try:
                left = _left(timeout, httpcore.ConnectTimeout)
                stream = super().connect_tcp(address, port, left, local_address, socket_options)
                return DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error
