"""Sending one message over SMTP with the standard library (``smtplib``).

``smtp://`` upgrades to TLS with STARTTLS whenever the server offers it; ``smtps://`` is
TLS from the first byte. Certificates are verified against the system's trust store
(``SSL_CERT_FILE`` names another). Failures are sorted for the caller: a 4xx answer, a
refused or dropped connection or a timeout is temporary (:attr:`SendError.transient`,
tried again later); a 5xx answer (a refused recipient, bad credentials) is not.
"""

from __future__ import annotations

import functools
import os
import smtplib
import socket
import ssl
from email.message import EmailMessage

from shared.mail.smtpurl import SmtpTarget

TIMEOUT_SECONDS = 20.0


class SendError(Exception):
    """A message that was not sent; ``transient`` says whether to try again."""

    def __init__(self, message: str, *, transient: bool, code: int | None = None):
        super().__init__(message)
        self.transient = transient
        self.code = code


@functools.cache
def _tls_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    # Loading the trust store costs tens of milliseconds: once per process (and per
    # SSL_CERT_FILE / SSL_CERT_DIR, which it reads), not once per mail.
    return ssl.create_default_context()


def tls_context() -> ssl.SSLContext:
    """The client context: the system's trust store (or ``SSL_CERT_FILE``), verified."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _local_hostname() -> str:
    return socket.getfqdn()  # smtplib would look it up for every connection


def _connect(target: SmtpTarget, timeout: float) -> smtplib.SMTP:
    name = _local_hostname()
    if target.implicit_tls:
        return smtplib.SMTP_SSL(
            target.host, target.port, local_hostname=name, timeout=timeout, context=tls_context()
        )
    smtp = smtplib.SMTP(target.host, target.port, local_hostname=name, timeout=timeout)
    try:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=tls_context())
            smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(target: SmtpTarget, message: EmailMessage, timeout: float = TIMEOUT_SECONDS) -> None:
    """Hand ``message`` to the server of ``target``; :class:`SendError` if it was not taken."""
    try:
        smtp = _connect(target, timeout)
        try:
            if target.username:
                smtp.login(target.username, target.password or "")
            smtp.send_message(message)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendError(
            f"recipient refused: {codes}",
            transient=all(400 <= code < 500 for code in codes),
            code=codes[0] if codes else None,
        ) from None
    except smtplib.SMTPResponseException as exc:  # MAIL, DATA, AUTH, HELO refused
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise SendError(
            f"{exc.smtp_code} {text}"[:400],
            transient=400 <= exc.smtp_code < 500,
            code=exc.smtp_code,
        ) from None
    except smtplib.SMTPNotSupportedError as exc:  # AUTH on a server that offers none
        raise SendError(f"not supported by the server: {exc}", transient=False) from None
    except (smtplib.SMTPException, OSError) as exc:  # refused, dropped, timed out, TLS
        raise SendError(f"{type(exc).__name__}: {exc}"[:400], transient=True) from None
