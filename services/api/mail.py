"""One-click unsubscribe (RFC 8058) from Parley's mail (docs/contract.md §3).

Every mail's ``List-Unsubscribe`` names ``/api/v1/mail/unsubscribe/<signed token>``:

- ``POST`` (what a mail client's one-click button sends, ``List-Unsubscribe=One-Click``,
  and the page's button) unsubscribes the address from all of Parley's mail: ``200``;
  ``400`` for a link Parley did not sign, ``410`` for one past its age
  (shared.mail.optout.LINK_MAX_AGE); the same link twice is a ``200`` both times;
- ``GET`` (a reader following the link) shows a page with the button and changes
  nothing: link scanners and prefetchers follow links, and must not unsubscribe anyone.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template, request

from services.http import container, problem
from shared.db import session_scope
from shared.mail import optout

mail_pages = Blueprint("mail", __name__, template_folder="templates")


@mail_pages.app_template_global("mail_enabled")
def mail_enabled() -> bool:
    """Whether the article page's form offers the "notify me" box (mail is configured)."""
    return container().settings.mail_configured


_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the path
}


def _page(status: int, **context):
    response = make_response(render_template("unsubscribe.html", **context), status)
    response.headers.update(_HEADERS)
    return response


def _read(token: str):
    """``(address hash, None)`` or ``(None, (status, title, message))``."""
    try:
        hashed, _kind = optout.read_token(container().settings.secret_key, token)
    except optout.ExpiredLink:
        return None, (
            410,
            "Link expired",
            "This unsubscribe link has expired. Use the link in a newer mail from us.",
        )
    except optout.BadLink:
        return None, (400, "Not a valid link", "This is not a valid unsubscribe link.")
    return hashed, None


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]
    )


@mail_pages.get("/api/v1/mail/unsubscribe/<token>")
def confirm(token: str):
    """The page with the button; no change of state."""
    hashed, error = _read(token)
    if error:
        status, title, message = error
        return _page(status, state="error", title=title, message=message)
    return _page(200, state="confirm", title="Unsubscribe", message="")


@mail_pages.post("/api/v1/mail/unsubscribe/<token>")
def unsubscribe(token: str):
    """Unsubscribe the link's address from all of Parley's mail (idempotent)."""
    hashed, error = _read(token)
    if error:
        status, title, message = error
        if _wants_html():
            return _page(status, state="error", title=title, message=message)
        return problem(status, title, message)
    with session_scope(container().stores.moderation) as session:
        optout.opt_out(session, hashed, "link")
    if _wants_html():
        return _page(200, state="done", title="Unsubscribed", message="")
    response = jsonify({"unsubscribed": True})
    response.headers["Cache-Control"] = "no-store"
    return response
