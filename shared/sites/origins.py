"""Origins (RFC 6454: scheme, host, port) as ``PARLEY_SITE_ORIGINS`` names them, and the
origin of a URL, compared exactly: ``https://news.example`` is not
``https://www.news.example`` nor ``http://news.example``."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class NotAnOrigin(ValueError):
    """The text is not an http(s) origin."""


def _host(hostname: str) -> str:
    # IPv6 literals keep their brackets in an origin.
    return f"[{hostname}]" if ":" in hostname else hostname


def origin_of(url: str) -> str | None:
    """The origin of an http(s) ``url`` (lower-case scheme and host, the port only when it
    is not the scheme's default), or None for anything else: another scheme, no host,
    credentials in it, a port out of range, or text that does not split as a URL."""
    if not isinstance(url, str) or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    host = _host(parts.hostname.lower().rstrip("."))
    if host in ("", "[]"):
        return None
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normalise_origin(text: str) -> str:
    """``text`` as an origin (see :func:`origin_of`); a trailing ``/`` is allowed, a path,
    query or fragment is not. Raises :class:`NotAnOrigin`."""
    value = text.strip()
    origin = origin_of(value)
    if origin is None:
        raise NotAnOrigin(f"{text!r} is not an http:// or https:// origin")
    parts = urlsplit(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise NotAnOrigin(
            f"{text!r} has a path, query or fragment; an origin is scheme://host[:port]"
        )
    return origin


def same_origin(url: str, origin: str) -> bool:
    """Whether ``url`` is on ``origin`` exactly."""
    return origin_of(url) == origin
