"""The dashboard's browser-facing safety: session cookies, CSRF tokens, and headers
(a strict Content-Security-Policy: scripts only from our own static files)."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from services.http import problem
from shared.config import Settings

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)


def wants_json() -> bool:
    """JSON endpoints (fetch() from dashboard.js) answer problems; pages answer HTML."""
    return request.path.startswith(("/admin/api/", "/admin/ops/data")) or request.is_json


def _csrf_failed(exc: CSRFError):
    detail = (
        "The form was not sent from an open dashboard page or it expired "
        f"({exc.description}). Reload the page and try again."
    )
    if wants_json():
        return problem(400, "Bad request", detail)
    return render_template("error.html", title="Form expired", message=detail), 400


def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.path.startswith("/admin") and not request.path.startswith("/admin/static/"):
        # Pages hold private data (e-mails, IPs): never kept by the browser or a proxy.
        response.headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask, settings: Settings, exempt=()) -> None:
    """Cookies, CSRF on every state-changing request (except bearer-token ``exempt``
    blueprints, which no browser sends credentials to) and security headers."""
    app.config.update(
        SESSION_COOKIE_NAME="parley_admin",
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        # Not sent again with every answer, which would only move the cookie's expiry: the
        # session ends in the moderation store, 12 h after sign-in (shared.accounts).
        SESSION_REFRESH_EACH_REQUEST=False,
        # Valid as long as the session: a moderator keeps a queue open for hours.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf = CSRFProtect(app)
    for blueprint in exempt:
        csrf.exempt(blueprint)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.after_request(_headers)
