"""The spam-checker port: Akismet behind a small interface, with a null implementation.

Workers ask :func:`build_checker` once per process for a checker and call ``check`` with
a payload from :func:`akismet_payload`. The checker never raises for Akismet's failures:
it returns a :class:`CheckResult` whose ``verdict`` is ``"error"`` and whose ``error`` and
``detail`` say why, so the caller can hold the comment and recheck it later (docs/contract.md §5).
No database access here: callers load the comment, close their session, then check.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import akismet
import httpx

from shared.ops.metrics import AKISMET_REQUESTS, AKISMET_SECONDS
from shared.ops.series import record_akismet

log = logging.getLogger(__name__)

HONEYPOT_FIELD = "website"
_TRANSIENT = frozenset({"timeout", "network", "http_5xx", "protocol"})
_VERDICTS = {
    akismet.CheckResponse.HAM: "ham",
    akismet.CheckResponse.SPAM: "spam",
    akismet.CheckResponse.DISCARD: "discard",
}


@dataclass(frozen=True)
class CheckResult:
    """What Akismet said about one comment, or why it could not say anything."""

    verdict: str  # ham | spam | discard | error | skipped
    guid: str | None = None
    pro_tip: str | None = None
    # timeout | network | http_5xx | http_status | protocol | invalid_key | config
    error: str | None = None
    detail: str | None = None
    attempts: int = 0
    seconds: float = 0.0
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_record(self) -> dict[str, Any]:
        """The JSON stored on the comment as ``akismet`` (shown to moderators)."""
        record: dict[str, Any] = {
            "verdict": self.verdict,
            "guid": self.guid,
            "pro_tip": self.pro_tip,
            "error": self.error,
            "detail": self.detail,
            "attempts": self.attempts,
            "checked_at": self.checked_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        return {k: v for k, v in record.items() if v is not None or k == "verdict"}


class FeedbackError(Exception):
    """A ham/spam report did not reach Akismet; ``transient`` says whether a retry can help."""

    def __init__(self, message: str, *, transient: bool, kind: str) -> None:
        super().__init__(message)
        self.transient = transient
        self.kind = kind


def _gmt(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # stored naive by some backends: always UTC in Parley
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def akismet_payload(comment: Any, settings: Any, recheck_reason: str | None = None) -> dict:
    """Keyword arguments for comment_check / submit_ham / submit_spam from a comment.

    Pure, so the same submitter data goes out on the first check, on rechecks and in
    feedback. Only keys the ``akismet`` client accepts are produced (it rejects unknown
    ones), which is why the honeypot's value itself cannot be sent, only its field name.
    """
    payload = {
        "user_ip": getattr(comment, "user_ip", None),
        "user_agent": getattr(comment, "user_agent", None),
        "referrer": getattr(comment, "referrer", None),
        "permalink": getattr(comment, "article_permalink", None),
        "comment_type": "reply" if getattr(comment, "parent_id", None) else "comment",
        "comment_author": getattr(comment, "author_name", None),
        "comment_author_email": getattr(comment, "author_email", None),
        "comment_author_url": getattr(comment, "author_url", None),
        "comment_content": getattr(comment, "content", None),
        "comment_date_gmt": _gmt(getattr(comment, "created_at", None)),
        "comment_post_modified_gmt": _gmt(getattr(comment, "article_modified_at", None)),
        "blog_lang": settings.blog_lang,
        "blog_charset": "UTF-8",
        "honeypot_field_name": HONEYPOT_FIELD,
        "recheck_reason": recheck_reason,
    }
    return {k: v for k, v in payload.items() if v is not None and v != ""}


class RewritingTransport(httpx.HTTPTransport):
    """Sends the client's requests to ``base_url`` instead of Akismet's fixed host.

    The ``akismet`` library hard-codes https://rest.akismet.com; redirecting at the
    transport lets tests and benchmarks use a compatible server without patching the
    library. It also remembers, per thread, the last response so the checker can read
    the ``X-akismet-*`` headers that the library does not return.

    Each thread gets a connection pool of its own (unless a transport is passed in): a
    thread makes one call at a time, so its pool keeps one connection open between its
    calls. One pool for all threads cost twice over: httpcore scans and polls every idle
    connection of a pool on every request (0.4-0.7 ms of CPU per call with 20 idle,
    measured), and httpx keeps only 20 open, so a worker process with more calls in
    flight opened and closed a connection for each of the others (1,338 new connections
    for 3,000 comments in the pipeline benchmark; against the real service each is a TLS
    handshake). The pools share one TLS context: building one loads the CA bundle (43 ms).
    A pool lasts until :meth:`close`, also past its thread: the threads that call Akismet
    (Celery's and the batch pool's) live as long as their process.
    """

    def __init__(self, base_url: str, inner: httpx.BaseTransport | None = None) -> None:
        # No super().__init__(): the wrapped transports own the connections.
        target = httpx.URL(base_url)
        self._scheme, self._host, self._port = target.scheme, target.host, target.port
        self._prefix = target.path.rstrip("/")
        self._host_header = target.netloc.decode("ascii")
        self._shared = inner
        self._tls = httpx.create_ssl_context() if inner is None else None
        self._pools: list[httpx.HTTPTransport] = []
        self._pools_lock = threading.Lock()
        self.local = threading.local()

    def _inner(self) -> httpx.BaseTransport:
        if self._shared is not None:
            return self._shared
        pool = getattr(self.local, "pool", None)
        if pool is None:
            pool = self.local.pool = httpx.HTTPTransport(verify=self._tls)
            with self._pools_lock:
                self._pools.append(pool)
        return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self._scheme,
            host=self._host,
            port=self._port,
            path=self._prefix + request.url.path,
        )
        request.headers["Host"] = self._host_header
        response = self._inner().handle_request(request)
        self.local.response = response
        return response

    def close(self) -> None:
        with self._pools_lock:
            pools, self._pools = self._pools, []
        for pool in pools:
            pool.close()
        if self._shared is not None:
            self._shared.close()

    def __enter__(self) -> RewritingTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Client(httpx.Client):
    """``httpx.Client`` whose answers are freed as soon as they are dropped.

    httpx binds each response's body to the response (``response.stream`` refers to a
    wrapper that refers back to the response, to set ``response.elapsed`` once the body is
    closed), so every answer, with its request, headers and connection-pool bookkeeping
    (about 45 objects a call), stayed in memory as a reference cycle until the interpreter's
    cyclic collector found it. In a worker draining a backlog those cycles were nearly all
    of the collector's work: full collections of ~17,000 objects every few seconds, each
    holding the interpreter 75-130 ms (bench/README.md, "The worker's collector pauses";
    encode/httpx#3733). Once the body is read and closed the wrapper has done its job, so
    the response is given a plain stream of the body it already holds.
    """

    def send(
        self, request: httpx.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        response = super().send(request, stream=stream, **kwargs)
        if not stream:  # read and closed by send(): response.elapsed is set
            response.stream = httpx.ByteStream(response.content)
        return response


def _classify(exc: Exception) -> tuple[str, str, int | None]:
    """(error kind, short description, HTTP status) of an exception from the client."""
    if isinstance(exc, akismet.APIKeyError):
        return "invalid_key", "Akismet rejected the API key or blog URL", None
    if isinstance(exc, akismet.ProtocolError):
        return "protocol", "Akismet gave an unexpected answer", None
    if isinstance(exc, TypeError):  # incl. akismet.UnknownArgumentError
        return "config", f"Akismet request could not be built ({exc})", None
    cause = exc.__cause__
    if isinstance(cause, httpx.TimeoutException):
        return "timeout", "Akismet timed out", None
    if isinstance(cause, httpx.HTTPStatusError):
        status = cause.response.status_code
        kind = "http_5xx" if status >= 500 else "http_status"
        return kind, f"Akismet answered HTTP {status}", status
    reason = (str(cause) or type(cause).__name__) if cause is not None else str(exc)
    return "network", f"Akismet could not be reached ({reason})", None


class AkismetChecker:
    """Checks comments with Akismet through one long-lived, thread-safe client.

    Built once per process (one connection pool, fork-safe when built after the fork).
    Transient failures are retried a few times with jittered backoff inside ``check`` so a
    blip does not hold a comment; anything longer is left to the periodic recheck.
    """

    def __init__(
        self,
        settings: Any,
        transport: httpx.BaseTransport | None = None,
        *,
        backoff_base: float = 0.1,
        backoff_cap: float = 1.0,
    ) -> None:
        self.settings = settings
        self.retries = settings.akismet_retries
        self.timeout = settings.akismet_timeout
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.key_invalid = False
        self._key_alarm_raised = False
        self._key_lock = threading.Lock()
        self._transport = RewritingTransport(settings.akismet_api_url, transport)
        self._http = _Client(
            timeout=settings.akismet_timeout,
            headers={"User-Agent": akismet.USER_AGENT},
            transport=self._transport,
        )
        self._client = akismet.SyncClient(
            config=akismet.Config(key=settings.akismet_api_key, url=settings.akismet_blog_url),
            http_client=self._http,
        )

    def _call(self, endpoint: str, method: Any, payload: dict) -> tuple[Any, Exception | None]:
        """One metered HTTP attempt: (result, None) or (None, exception)."""
        self._transport.local.response = None
        start = time.perf_counter()
        try:
            args = dict(payload)
            result = method(args.pop("user_ip"), **args)
        except (akismet.AkismetError, KeyError, TypeError) as exc:
            if isinstance(exc, KeyError):
                exc = TypeError("user_ip is required")
            outcome, error = _classify(exc)[0], exc
            result = None
        else:
            error = None
            outcome = _VERDICTS[result] if endpoint == "comment-check" else "ok"
        seconds = time.perf_counter() - start
        AKISMET_REQUESTS.labels(endpoint=endpoint, outcome=outcome).inc()
        AKISMET_SECONDS.labels(endpoint=endpoint).observe(seconds)
        record_akismet(getattr(self.settings, "redis_url", None), endpoint, outcome, seconds)
        self._note_key(outcome)
        return result, error

    def _note_key(self, outcome: str) -> None:
        # Loud once per process, then quiet: every comment would otherwise repeat the alarm.
        invalid = outcome == "invalid_key"
        with self._key_lock:
            first = invalid and not self._key_alarm_raised
            if invalid:
                self.key_invalid = self._key_alarm_raised = True
            elif outcome in ("ham", "spam", "discard", "ok"):
                self.key_invalid = False  # Akismet accepted the key again
        if first:
            log.error(
                "Akismet rejected the API key or blog URL: every comment will be held until "
                "ops fix PYTHON_AKISMET_API_KEY / PYTHON_AKISMET_BLOG_URL and restart."
            )
        elif invalid:
            log.debug("Akismet API key still invalid")

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))

    def check(self, payload: dict) -> CheckResult:
        """Ask Akismet about one comment; never raises for Akismet's own failures."""
        start = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            result, exc = self._call("comment-check", self._client.comment_check, payload)
            response = getattr(self._transport.local, "response", None)
            if exc is None:
                headers = response.headers if response is not None else {}
                return CheckResult(
                    verdict=_VERDICTS[result],
                    guid=headers.get("X-akismet-guid"),
                    pro_tip=headers.get("X-akismet-pro-tip"),
                    attempts=attempt,
                    seconds=time.perf_counter() - start,
                )
            kind, description, _ = _classify(exc)
            if kind not in _TRANSIENT or attempt > self.retries:
                break
            time.sleep(self._backoff(attempt - 1))
        return CheckResult(
            verdict="error",
            error=kind,
            detail=self._detail(kind, description, attempt, response),
            attempts=attempt,
            seconds=time.perf_counter() - start,
        )

    def _detail(self, kind: str, description: str, attempts: int, response: Any) -> str:
        tries = f"({attempts} attempt{'s' if attempts != 1 else ''})"
        if kind == "timeout":
            return f"Akismet timed out after {self.timeout} s {tries}"
        if kind == "invalid_key":
            return (
                f"{description}; fix PYTHON_AKISMET_API_KEY / PYTHON_AKISMET_BLOG_URL"
                " (the comment will be rechecked)"
            )
        if kind == "protocol" and response is not None:
            body = response.text.strip().replace("\n", " ")
            return f"{description}: {body[:80]!r} {tries}"
        return f"{description} {tries}"

    def _submit(self, endpoint: str, method: Any, payload: dict) -> bool:
        _, exc = self._call(endpoint, method, payload)
        if exc is None:
            return True
        kind, description, status = _classify(exc)
        transient = kind in _TRANSIENT or status in (408, 429)
        raise FeedbackError(f"{endpoint}: {description}", transient=transient, kind=kind)

    def submit_ham(self, payload: dict) -> bool:
        """Report a false positive (moderator approved what Akismet called spam)."""
        return self._submit("submit-ham", self._client.submit_ham, payload)

    def submit_spam(self, payload: dict) -> bool:
        """Report a missed spam (moderator marked as spam what Akismet called ham)."""
        return self._submit("submit-spam", self._client.submit_spam, payload)

    def close(self) -> None:
        self._http.close()


class NullChecker:
    """Stands in when Akismet is not configured, so callers never branch on configuration."""

    key_invalid = False

    def check(self, payload: dict) -> CheckResult:
        return CheckResult(
            verdict="skipped",
            detail=(
                "Akismet is not configured (PYTHON_AKISMET_API_KEY / PYTHON_AKISMET_BLOG_URL"
                " unset); heuristics alone decided"
            ),
        )

    def submit_ham(self, payload: dict) -> bool:
        return False

    def submit_spam(self, payload: dict) -> bool:
        return False

    def close(self) -> None:
        pass


def build_checker(settings: Any) -> AkismetChecker | NullChecker:
    """The checker the settings call for: Akismet when key and blog URL are both set."""
    return AkismetChecker(settings) if settings.akismet_configured else NullChecker()
