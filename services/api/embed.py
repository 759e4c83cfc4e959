"""The comments widget, ``GET /embed.js`` (docs/contract.md §3, README "Embedding the
comments"): one hand-written script in ``static/embed.js``, served as it is."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_file

WIDGET = Path(__file__).with_name("static") / "embed.js"
# The URL carries no version, so a changed widget reaches readers within this time; the
# ETag makes the check after it a 304 of a few bytes.
MAX_AGE = 3600

embed = Blueprint("embed", __name__)


@embed.get("/embed.js")
def script():
    """The widget: JavaScript, cacheable by browsers and shared caches for ``MAX_AGE``,
    loadable by any page (a ``<script>`` needs no CORS; ``Cross-Origin-Resource-Policy``
    lets a host page that isolates itself with COEP load it too)."""
    response = send_file(WIDGET, mimetype="text/javascript", conditional=True, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
