"""An Akismet-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

It speaks Akismet's real wire protocol (form-encoded POSTs to ``/1.1/...``, plain-text
answers, ``X-akismet-*`` headers), so Parley's code is exercised through the real
``akismet`` client and ``httpx`` instead of mocks. Verdicts follow content triggers like
real Akismet's test values; failures (5xx, timeouts, garbage, dropped connections, an
invalid key) can be switched on from Python or over HTTP, and a comment containing
``parley-test-error`` always gets a 500 (one failing comment among good ones).

Three ways to use it:

* in-process: ``with AkismetServer() as server: ... server.url ... server.set(mode="error500")``
* as a pytest fixture: ``akismet_server`` in :mod:`tests.akismet_fixtures`
* as a process: ``python -m tests.akismet_server --port 8787 --delay-ms 150``

Control over HTTP: ``POST /_control`` with JSON ``{"mode", "delay_ms", "default_verdict",
"fail_next", "hang_seconds"}`` (any subset; answers the resulting state), ``GET /_control``,
``GET /_requests`` (the recorded requests), ``POST /_reset``.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

MODES = ("normal", "error500", "error503", "timeout", "garbage", "invalid", "drop")
VERDICTS = ("ham", "spam", "discard")
DEFAULT_KEYS = ("test-key",)
SUBMISSION_RESPONSE = "Thanks for making the web a better place."
MAX_RECORDED = 10_000

# Fields real Akismet refuses to work without (besides the key).
REQUIRED_FIELDS = ("blog", "user_ip")


def verdict_for(form: dict[str, str], default: str = "ham") -> str:
    """The verdict for a comment-check form, by the same kind of triggers real Akismet has."""
    content = form.get("comment_content", "")
    if form.get("comment_author") == "viagra-test-123":
        return "spam"
    if form.get("comment_author_email") == "akismet-guaranteed-spam@example.com":
        return "spam"
    if "parley-test-discard" in content:
        return "discard"
    if "parley-test-spam" in content:
        return "spam"
    if form.get("user_role") == "administrator" or "parley-test-ham" in content:
        return "ham"
    return default


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Keep up with benchmark bursts without refusing connections.
    request_queue_size = 128

    def __init__(self, address, handler, owner: AkismetServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        # Clients hanging up (timeouts, drops) are part of the job; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: benchmarks reuse connections
    server_version = "AkismetCompatible/1.0"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK would add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no per-request logging: it would dominate benchmark time

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    # --- plumbing ---------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body: str, headers: dict[str, str] | None = None, ctype="text/plain"
    ) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload), ctype="application/json")

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- routes -----------------------------------------------------------------------

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path == "/_requests":
            self._json(200, owner.requests)
        elif self.path == "/_control":
            self._json(200, owner.state())
        else:
            self._send(404, "Not found")

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._body()
        if self.path == "/_control":
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object")
                owner.set(**changes)
            except (ValueError, TypeError) as exc:
                self._json(400, {"error": str(exc)})
                return
            self._json(200, owner.state())
        elif self.path == "/_reset":
            owner.reset()
            self._json(200, owner.state())
        elif self.path.startswith("/1.1/"):
            self._akismet(self.path[len("/1.1/") :], body)
        else:
            self._send(404, "Not found")

    def _akismet(self, endpoint: str, body: bytes) -> None:
        owner = self.server.owner
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        entry = owner._record(self.path, form, self.headers.get("User-Agent"))
        with owner._in_flight():
            self._answer(endpoint, form, entry)

    def _answer(self, endpoint: str, form: dict[str, str], entry: dict) -> None:
        owner = self.server.owner
        mode, delay, release, hang = owner._plan(endpoint)
        if delay:
            release.wait(delay)
        if mode == "timeout":
            # Hold the connection without an answer; released early on reset/stop.
            release.wait(hang)
            self._drop()
            return
        if mode == "drop":
            self._drop()
            return
        if mode in ("error500", "error503"):
            status = 500 if mode == "error500" else 503
            self._send(status, "Internal Server Error" if status == 500 else "Service Unavailable")
            return
        if mode == "garbage":
            self._send(200, "<html>oops</html>", ctype="text/html")
            return
        if endpoint == "comment-check" and "parley-test-error" in form.get("comment_content", ""):
            self._send(500, "Internal Server Error")
            return
        key_field = "key" if endpoint == "verify-key" else "api_key"
        key_ok = mode != "invalid" and owner._key_valid(form.get(key_field))
        if endpoint == "verify-key":
            ok = key_ok and bool(form.get("blog"))
            headers = {} if ok else {"X-akismet-debug-help": "The API key or blog URL is invalid."}
            self._send(200, "valid" if ok else "invalid", headers)
            return
        if endpoint not in ("comment-check", "submit-ham", "submit-spam"):
            self._send(404, "Not found")
            return
        if not key_ok:
            self._send(200, "invalid", {"X-akismet-debug-help": 'Empty or invalid "api_key".'})
            return
        for name in REQUIRED_FIELDS:
            if not form.get(name):
                message = f"Missing required field: {name}."
                self._send(200, message, {"X-akismet-debug-help": message})
                return
        if endpoint != "comment-check":
            self._send(200, SUBMISSION_RESPONSE)
            return
        verdict = verdict_for(form, owner.default_verdict)
        headers = {"X-akismet-guid": str(uuid.uuid4())}
        entry["verdict"], entry["guid"] = verdict, headers["X-akismet-guid"]
        if verdict == "discard":
            headers["X-akismet-pro-tip"] = "discard"
        self._send(200, "false" if verdict == "ham" else "true", headers)


class AkismetServer:
    """An Akismet-compatible server in background threads; see the module docstring."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        valid_keys: tuple[str, ...] | list[str] = DEFAULT_KEYS,
        delay_ms: float = 0,
        hang_seconds: float = 30,
    ) -> None:
        self.host = host
        self.port = port
        self.valid_keys = set(valid_keys)
        self._initial = {"delay_ms": delay_ms, "hang_seconds": hang_seconds}
        self._lock = threading.Lock()
        self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()
        self._active = 0
        self.peak_in_flight = 0  # most Akismet requests answered at once since the reset
        self.connections_opened = 0  # connections accepted since the reset
        self._apply_defaults()

    def _apply_defaults(self) -> None:
        self.mode = "normal"
        self.default_verdict = "ham"
        self.fail_next = 0
        self.delay_ms = float(self._initial["delay_ms"])
        self.hang_seconds = float(self._initial["hang_seconds"])

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> AkismetServer:
        """Bind and serve in a daemon thread; ``.url`` is valid afterwards."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"akismet-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release held requests and close every open connection."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._release.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AkismetServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def open_connections(self) -> int:
        """Client connections open right now."""
        with self._lock:
            return len(self._connections)

    @property
    def url(self) -> str:
        """Base URL to configure as ``PARLEY_AKISMET_API_URL``."""
        return f"http://{self.host}:{self.port}"

    # --- control ----------------------------------------------------------------------

    def set(
        self,
        mode: str | None = None,
        delay_ms: float | None = None,
        default_verdict: str | None = None,
        fail_next: int | None = None,
        hang_seconds: float | None = None,
    ) -> None:
        """Change behaviour; only the arguments given change.

        ``fail_next=N`` limits the failure ``mode`` to the next N comment-check requests,
        after which the server is back to ``normal``; without it a failure mode applies to
        every Akismet endpoint until changed.
        """
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if default_verdict is not None and default_verdict not in VERDICTS:
            raise ValueError(f"default_verdict must be one of {', '.join(VERDICTS)}")
        for name, value in (("delay_ms", delay_ms), ("fail_next", fail_next)):
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{name} must be a number >= 0")
        with self._lock:
            if mode is not None:
                self.mode = mode
            if delay_ms is not None:
                self.delay_ms = float(delay_ms)
            if default_verdict is not None:
                self.default_verdict = default_verdict
            if fail_next is not None:
                self.fail_next = int(fail_next)
            if hang_seconds is not None:
                self.hang_seconds = float(hang_seconds)

    def reset(self) -> None:
        """Back to the initial behaviour, forget recorded requests, release held ones."""
        with self._lock:
            self._apply_defaults()
            self._requests.clear()
            self.peak_in_flight = self._active
            self.connections_opened = 0
            self._release.set()
            self._release = threading.Event()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mode": self.mode,
                "delay_ms": self.delay_ms,
                "default_verdict": self.default_verdict,
                "fail_next": self.fail_next,
                "hang_seconds": self.hang_seconds,
            }

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Recorded Akismet requests, oldest first.

        Each is ``{"path", "form", "user_agent", "time"}``, plus ``"verdict"`` and ``"guid"``
        once a comment-check has been answered.
        """
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[dict[str, Any]]:
        """Recorded requests to one endpoint, e.g. ``"comment-check"``."""
        return [r for r in self.requests if r["path"] == f"/1.1/{endpoint}"]

    # --- used by the handler --------------------------------------------------------------

    @contextmanager
    def _in_flight(self):
        with self._lock:
            self._active += 1
            self.peak_in_flight = max(self.peak_in_flight, self._active)
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1

    def _record(self, path: str, form: dict[str, str], user_agent: str | None) -> dict:
        entry = {"path": path, "form": form, "user_agent": user_agent, "time": time.time()}
        with self._lock:
            self._requests.append(entry)
        return entry

    def _plan(self, endpoint: str) -> tuple[str, float, threading.Event, float]:
        """The mode for this request (consuming ``fail_next``), delay, release event, hang."""
        with self._lock:
            mode = self.mode
            if self.fail_next:
                if endpoint == "comment-check":
                    self.fail_next -= 1
                    if self.fail_next == 0:
                        self.mode = "normal"
                else:
                    mode = "normal"
            return mode, self.delay_ms / 1000, self._release, self.hang_seconds

    def _key_valid(self, key: str | None) -> bool:
        return bool(key) and key in self.valid_keys

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
                self.connections_opened += 1
            else:
                self._connections.discard(conn)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Akismet-compatible server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--mode", choices=MODES, default="normal")
    parser.add_argument("--default-verdict", choices=VERDICTS, default="ham")
    parser.add_argument("--hang-seconds", type=float, default=30)
    parser.add_argument(
        "--valid-key", action="append", help="an API key to accept (repeatable; default test-key)"
    )
    args = parser.parse_args(argv)

    server = AkismetServer(
        args.port,
        args.host,
        valid_keys=args.valid_key or DEFAULT_KEYS,
        delay_ms=args.delay_ms,
        hang_seconds=args.hang_seconds,
    )
    server.set(mode=args.mode, default_verdict=args.default_verdict)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    server.start()
    print(f"akismet-compatible server on {server.url}", flush=True)
    while not stopping.wait(0.1):  # short: a signal does not wake Event.wait itself
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
