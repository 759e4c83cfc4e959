"""Fetching a page of the site, and nothing else (it must not be a way to make Parley
fetch arbitrary URLs, SSRF):

* only ``http``/``https``, on the origin the caller checked (:mod:`shared.sites.register`
  checks it against ``PARLEY_SITE_ORIGINS``);
* every address the host resolves to is checked as the connection is made, and the
  connection goes to a checked address (:class:`GuardedBackend`; TLS still verifies the
  host's name): loopback, link-local, private, multicast, reserved and the IANA
  special-purpose blocks are refused, unless the configured origin's host is itself such
  an address (or ``localhost``): a site on the newsroom's own network is configured so;
* redirects are followed only to the same origin, at most :data:`MAX_REDIRECTS` times;
* the whole fetch has one deadline (slow answers, slow bodies), the body is read up to
  a cap (the title is near the top; the rest is never read), no proxy from the
  environment, no cookies, no credentials.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from shared.netguard import refused_reason
from shared.sites.origins import origin_of

MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)
HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I)


class Refused(Exception):
    """The page cannot vouch for an article; the message says why (for the submitter)."""


def _bare(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


def private_hosts(origins: tuple[str, ...]) -> frozenset[str]:
    """The hosts of ``origins`` that may be non-public: ``localhost`` and addresses that
    are themselves loopback, private, ... (an operator who configures one means it)."""
    hosts = set()
    for origin in origins:
        host = _bare(urlsplit(origin).hostname or "")
        if host == "localhost":
            hosts.add(host)
            continue
        try:
            if refused_reason(host):
                hosts.add(host)
        except ValueError:
            pass  # a name: its addresses are checked at every connection
    return frozenset(hosts)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, resolving and checking each host as it connects, then
    connecting to a checked address."""

    def __init__(self, allowed_private: frozenset[str]):
        self.allowed_private = allowed_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        name = _bare(host.decode() if isinstance(host, bytes) else host)
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise Refused(f"its host {name} does not resolve ({exc.__class__.__name__})") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if name not in self.allowed_private:
            for address in addresses:
                if reason := refused_reason(address):
                    # One refused address refuses the name: which one a client would
                    # pick is not ours to know.
                    raise Refused(f"its host {name} resolves to {reason}")
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or Refused(f"its host {name} has no address")


def make_pool(origins: tuple[str, ...]) -> httpcore.ConnectionPool:
    """Connections for :func:`fetch`: guarded, verified TLS (httpx's CA bundle), a few kept
    open briefly (a registration is rare: a site's first comments on new stories)."""
    return httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=16,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(private_hosts(origins)),
    )


@dataclass(frozen=True)
class Fetched:
    url: str  # after the same-origin redirects
    html: str
    size: int  # bytes read (at most the cap)
    truncated: bool


def _charset(content_type: str, head: bytes) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    found = _META_CHARSET.search(head[:4096])
    return found.group(1).decode("ascii") if found else "utf-8"


def decode(body: bytes, content_type: str) -> str:
    """The page's text in its declared encoding (header, then ``<meta charset>``), UTF-8
    otherwise; undecodable bytes become U+FFFD."""
    try:
        return body.decode(_charset(content_type, body), errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def fetch(
    pool: httpcore.ConnectionPool,
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    user_agent: str = "Parley",
) -> Fetched:
    """GET the HTML page at ``url`` within ``timeout`` seconds in all, following redirects
    only on ``url``'s own origin; raises :class:`Refused` saying why it does not count."""
    origin = origin_of(url)
    if origin is None:
        raise Refused("is not an http:// or https:// URL")
    deadline = time.monotonic() + timeout
    headers = [
        (b"User-Agent", user_agent.encode()),
        (b"Accept", b"text/html,application/xhtml+xml;q=0.9"),
    ]
    for _ in range(MAX_REDIRECTS + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        limits = {"connect": left, "read": left, "write": left, "pool": left}
        try:
            with pool.stream("GET", url, headers=headers, extensions={"timeout": limits}) as answer:
                fields = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in answer.headers
                }
                if answer.status in REDIRECTS:
                    target = urljoin(url, fields.get("location", "").strip())
                    if origin_of(target) != origin:
                        raise Refused(
                            f"redirects to another origin ({origin_of(target) or 'not http(s)'})"
                        )
                    url = target
                    continue
                if answer.status != 200:
                    raise Refused(f"answered {answer.status}, not 200")
                content_type = fields.get("content-type", "")
                mime = content_type.split(";")[0].strip().lower()
                if mime not in HTML_TYPES:
                    raise Refused(f"is not an HTML page ({mime or 'no content type'})")
                body = bytearray()
                truncated = False
                for chunk in answer.iter_stream():
                    body += chunk
                    if len(body) >= max_bytes:
                        truncated = True  # the rest is never read
                        del body[max_bytes:]
                        break
                    if time.monotonic() > deadline:
                        raise Refused(f"did not send its page within {timeout:g} s")
                return Fetched(url, decode(bytes(body), content_type), len(body), truncated)
        except httpcore.TimeoutException:
            raise Refused(f"did not answer within {timeout:g} s") from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise Refused(f"could not be fetched ({exc.__class__.__name__})") from None
    else:
        raise Refused(f"redirects more than {MAX_REDIRECTS} times")
    raise Refused(f"did not answer within {timeout:g} s")
