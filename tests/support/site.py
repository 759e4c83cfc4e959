"""A real web site on 127.0.0.1 for the tests of article registration (shared.sites): HTML
pages, redirects, a slow page, a page that drips, a huge page, JSON and a 404, each
request counted by path."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 20 * 1024 * 1024


def story_html(
    name: str,
    *,
    title: str | None = None,
    og: str | None = None,
    canonical=None,
    embeds: str | None = None,
) -> bytes:
    head = f"<title>{title if title is not None else name.title() + ' — The News'}</title>"
    if og:
        head += f'<meta property="og:title" content="{og}">'
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    body = "<p>The story.</p>"
    if embeds:
        body += f'<div id="parley-comments" data-parley-article="{embeds}"></div>'
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


class Site:
    """The server: ``url(path)``, ``hits[path]``, ``sent[path]`` (bytes written), and
    ``pages`` to add pages (path -> (status, content type, body))."""

    def __init__(self, host: str = "127.0.0.1"):
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.pages: dict[str, tuple[int, str, bytes, dict]] = {}
        self.slow_seconds = 5.0
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - the stdlib's name
                path = self.path.split("?", 1)[0]
                site.hits[path] += 1
                try:
                    site.answer(self, path)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.origin = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.origin + path

    def page(
        self,
        path: str,
        body: bytes,
        status: int = 200,
        content_type="text/html; charset=utf-8",
        **headers,
    ):
        self.pages[path] = (status, content_type, body, headers)

    def _send(self, handler, status, content_type, body, headers=None, length=None):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def answer(self, handler, path: str) -> None:
        if path in self.pages:
            status, content_type, body, headers = self.pages[path]
            self._send(handler, status, content_type, body, headers)
            self.sent[path] += len(body)
        elif path.startswith("/story/"):
            body = story_html(path.rsplit("/", 1)[1])
            self._send(handler, 200, "text/html; charset=utf-8", body)
            self.sent[path] += len(body)
        elif path == "/slow":
            time.sleep(self.slow_seconds)
            self._send(handler, 200, "text/html", story_html("slow"))
        elif path == "/drip":
            body = story_html("drip") + b" " * 4000
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for i in range(0, len(body), 100):  # 100 bytes every 0.2 s: 8 s in all
                handler.wfile.write(body[i : i + 100])
                handler.wfile.flush()
                self.sent[path] += 100
                time.sleep(0.2)
        elif path == "/huge":
            head = story_html("huge")
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(HUGE_BYTES))
            handler.end_headers()
            handler.wfile.write(head)
            self.sent[path] += len(head)
            chunk = b"<p>" + b"x" * 65530 + b"</p>\n"
            while self.sent[path] < HUGE_BYTES:
                piece = chunk[: HUGE_BYTES - self.sent[path]]
                handler.wfile.write(piece)
                self.sent[path] += len(piece)
        else:
            self._send(handler, 404, "text/html", b"<title>Not found</title>")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
