"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1), and running the mail
queue's tasks in process from their Redis messages, as a worker would.

:class:`SmtpServer` records every message it accepts, can answer the next DATA commands
with a temporary (4xx) or permanent (5xx) failure, can stop and start again on the same
port (a mail server down, then up), and speaks STARTTLS, implicit TLS and AUTH PLAIN/LOGIN
with a throw-away self-signed certificate (:func:`self_signed`).
"""

from __future__ import annotations

import base64
import email
import json
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from shared import taskqueue
from shared.mail import delivery
from tests.support.procs import free_port

USER, PASSWORD = "parley", "s3cret:p@ss/word"


@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    at: float  # time.monotonic() when accepted
    tls: bool
    login: str | None


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        with self.server.lock:
            if self.server.answers:
                return self.server.answers.pop(0)
            raw = envelope.original_content or envelope.content
            self.server.received.append(
                Received(
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=email.message_from_bytes(raw, policy=policy.default),
                    raw=raw,
                    at=time.monotonic(),
                    # Implicit TLS: the listening socket speaks nothing else.
                    tls=session.ssl is not None or self.server.mode == "tls",
                    login=session.auth_data.decode() if session.auth_data else None,
                )
            )
        return "250 2.0.0 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl: (cert, key)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1:``port``: ``mode`` is ``plain``, ``starttls`` (offered, and
    AUTH only after it) or ``tls`` (implicit TLS, smtps)."""

    port: int = field(default_factory=free_port)
    mode: str = "plain"
    cert: tuple[Path, Path] | None = None
    auth: bool = False
    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # the next DATA answers, instead of 250
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.mode == "tls" else "smtp"
        user = "parley:s3cret%3Ap%40ss%2Fword@" if self.auth else ""
        return f"{scheme}://{user}127.0.0.1:{self.port}"

    def _context(self) -> ssl.SSLContext | None:
        if self.mode == "plain":
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, self.cert))
        return context

    def start(self) -> SmtpServer:
        context = self._context()
        kwargs: dict = {}
        if self.mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=False)
        if self.auth:
            # aiosmtpd counts only STARTTLS as TLS for AUTH (and warns about requiring AUTH
            # without it); over implicit TLS, AUTH is offered and checked, not required.
            implicit = self.mode == "tls"
            kwargs.update(
                authenticator=_authenticator,
                auth_required=not implicit,
                auth_require_tls=not implicit,
            )
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=context if self.mode == "tls" else None,
            ready_timeout=10,
            **kwargs,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def wait(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


def run_mail_queue(container, redis_client, rounds: int = 10, now=None) -> list[tuple[str, object]]:
    """Take the ``mail`` queue's messages from Redis and run each task in process, as the
    ``deliver`` worker would (the same handlers the tasks adapt), until the queue stays
    empty; every (task name, result). ``now``: the sends' clock (a test's later time)."""
    handlers = {
        taskqueue.MAIL_PUBLISHED: lambda ids: delivery.plan_and_queue(container, ids),
        taskqueue.SEND_MAIL: lambda mail_id: delivery.deliver(container, mail_id, now=now),
        taskqueue.MAIL_TICK: lambda: delivery.tick(container),
    }
    done = []
    for _ in range(rounds):
        raw = redis_client.rpop("mail")
        if raw is None:
            break
        while raw is not None:
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            name = message["headers"]["task"]
            done.append((name, handlers[name](*args)))
            raw = redis_client.rpop("mail")
    return done
