"""A real webhook receiver for the tests: a threaded ``http.server`` on 127.0.0.1 that
checks every delivery's signature and headers, and can fail the first N deliveries, time
out once, or hang every request."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.webhooks.signing import verify


@dataclass
class Received:
    """One request as the receiver saw it."""

    event: dict
    delivery: str
    event_header: str
    signed: bool
    answered: int
    at: float


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0  # answer 500 to this many requests first
    hang_once: float = 0  # then sleep this long once before answering (a timeout)
    hang_always: float = 0  # sleep this long on every request
    status: int = 204
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    seen = len(receiver.requests)
                    hang = receiver.hang_always
                    if not hang and receiver.hang_once and seen == receiver.fail_first:
                        hang = receiver.hang_once
                    answer = 500 if seen < receiver.fail_first else receiver.status
                    if hang and seen == receiver.fail_first and receiver.hang_once:
                        answer = 200  # too late to count
                    receiver.requests.append(
                        Received(
                            event=json.loads(body),
                            delivery=self.headers.get("X-Parley-Delivery", ""),
                            event_header=self.headers.get("X-Parley-Event", ""),
                            signed=self.headers.get("Content-Type") == "application/json"
                            and verify(
                                receiver.secret,
                                self.headers.get("X-Parley-Signature", ""),
                                body,
                            ),
                            answered=answer,
                            at=time.monotonic(),
                        )
                    )
                if hang:
                    time.sleep(hang)
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (timeout)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        with self.lock:
            return [r.event for r in self.requests]

    def accepted(self) -> list[Received]:
        """The requests answered with a 2xx in time (not the hung one)."""
        with self.lock:
            return [
                r
                for i, r in enumerate(self.requests)
                if 200 <= r.answered < 300 and not (self.hang_once and i == self.fail_first)
            ]
