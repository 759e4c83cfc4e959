"""``PARLEY_SMTP_URL`` (docs/contract.md §2): where mail goes and how to get there.

``smtp://[user[:password]@]host[:port]`` speaks plain SMTP and switches to TLS with
STARTTLS whenever the server offers it (port 587 by default); ``smtps://…`` speaks TLS
from the first byte (port 465 by default). User and password are percent-decoded, so a
password with ``@``, ``:`` or ``/`` is written ``%40``, ``%3A``, ``%2F``. Pure: no socket
is opened here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class SmtpUrlError(ValueError):
    """A ``PARLEY_SMTP_URL`` that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class SmtpTarget:
    """A parsed ``PARLEY_SMTP_URL``."""

    scheme: str  # smtp (STARTTLS when offered) or smtps (implicit TLS)
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def implicit_tls(self) -> bool:
        return self.scheme == "smtps"

    def shown(self) -> str:
        """The URL without its password, for logs and the dashboard."""
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse ``url``; raises :class:`SmtpUrlError` for anything but the two forms above."""
    if not isinstance(url, str) or not url.strip():
        raise SmtpUrlError("must be smtp://user:pass@host:port or smtps://…")
    url = url.strip()
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise SmtpUrlError("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:  # a port that is not a number or out of range, a bad [v6]
        raise SmtpUrlError(f"cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise SmtpUrlError("the scheme must be smtp:// (STARTTLS when offered) or smtps://")
    if not host:
        raise SmtpUrlError("names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SmtpUrlError("takes no path, query or fragment: smtp://user:pass@host:port")
    if port == 0:
        raise SmtpUrlError("port must be from 1 to 65535")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise SmtpUrlError("has a password but no user name")
    return SmtpTarget(
        scheme=scheme,
        host=host,
        port=port or DEFAULT_PORTS[scheme],
        username=username,
        password=password,
    )
