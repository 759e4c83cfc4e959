"""A host site for the comments widget: a static web server on another origin than the api
(``http://localhost:PORT``, where the api is ``http://127.0.0.1:PORT``), serving the pages a
test gives it, each with its own headers (a Content-Security-Policy, say)."""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HostSite:
    """``page(path, body, **headers)`` adds a page; ``url(path)`` is where it is served."""

    def __init__(self):
        pages: dict[str, tuple[bytes, str, dict]] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                found = pages.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                body, content_type, headers = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, path: str, body: str, content_type: str = "text/html; charset=utf-8", **headers):
        self.pages[path] = (body.encode(), content_type, headers)
        return self.url(path)

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def article_page(
    api_url: str,
    slug: str = "talks",
    title: str = "Talks resume",
    url: str = "",
    head: str = "",
    before: str = "",
) -> str:
    """A news article with the widget's markup exactly as docs/contract.md §3 gives it."""
    attr = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{attr(title)}</title>{head}</head>
<body><h1>{attr(title)}</h1><p>The article's text.</p>{before}
<div id="parley-comments" data-parley-article="{attr(slug)}"
     data-parley-title="{attr(title)}" data-parley-url="{attr(url)}"></div>
<script src="{attr(api_url)}/embed.js" async></script>
<p id="after">After the comments.</p>
</body></html>"""
