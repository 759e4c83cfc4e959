"""Signing in and out, and the guards every dashboard view uses."""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from services.dashboard.security import wants_json
from services.http import container, problem
from shared import accounts
from shared.db import session_scope

log = logging.getLogger(__name__)

auth = Blueprint("auth", __name__, url_prefix="/admin")


def current_moderator() -> accounts.Moderator | None:
    """The signed-in, enabled moderator of this request (loaded once per request).

    The cookie only names a session kept in the moderation store (``sid``): signing out,
    a password change or a disabled account ends it there, for every copy of the cookie
    and in every dashboard process.
    """
    if "moderator" not in g:
        g.moderator = None
        token = session.get("sid")
        if token is not None:
            with container().stores.moderation_read() as db:
                g.moderator = accounts.session_moderator(db, token)
            if g.moderator is None:
                session.clear()
    return g.moderator


def actor() -> str:
    """Who is acting, as written in histories and the audit log: the moderator's e-mail."""
    return current_moderator().email


def _refuse(status: int, title: str, message: str):
    if wants_json():
        return problem(status, title, message)
    return render_template("error.html", title=title, message=message), status


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_moderator() is None:
            if wants_json():
                return problem(401, "Unauthorized", "Your session ended: sign in again.")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_moderator().is_admin:
            return _refuse(403, "Admins only", "Only admins may see or change this page.")
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect to another site."""
    if (
        target
        and target.startswith("/admin")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return url_for("queue.index")


def _throttle():
    return current_app.extensions["parley_login_throttle"]


@auth.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_moderator() is not None:
            return redirect(next_url)
        return render_template("login.html", next=next_url, email="")
    email = (request.form.get("email") or "").strip()[:254]
    password = request.form.get("password") or ""
    ip = request.remote_addr or "unknown"
    throttle = _throttle()
    # Counted as a failure before the password is checked: of a burst of guesses, only as
    # many as the limits allow are ever checked.
    attempt = throttle.attempt(email, ip)
    if not attempt.taken:
        wait = attempt.retry_after
        minutes = max(1, round(wait / 60))
        message = (
            "Too many failed sign-ins. "
            f"Try again in about {minutes} minute{'s' if minutes != 1 else ''}."
        )
        html = render_template("login.html", next=next_url, email=email, error=message)
        return html, 429, {"Retry-After": str(wait)}
    try:
        with session_scope(container().stores.moderation) as db:
            moderator = accounts.authenticate(db, email, password)
            if moderator is not None:
                accounts.audit(db, moderator.email, "login", moderator.email, ip=ip)
                lifetime = current_app.permanent_session_lifetime
                token = accounts.start_session(db, moderator, lifetime)
    except Exception:
        throttle.give_back(attempt)  # not a wrong password: the store failed
        raise
    if moderator is None:
        log.warning("dashboard sign-in failed", extra={"ip": ip})
        return render_template(
            "login.html",
            next=next_url,
            email=email,
            error="Wrong e-mail or password (or the account is disabled).",
        )
    throttle.succeeded(email, ip, attempt)
    session.clear()  # a fresh session (and CSRF token) for the signed-in moderator
    session.permanent = True
    session["sid"] = token
    g.moderator = moderator
    return redirect(next_url, 303)


@auth.post("/logout")
def logout():
    with session_scope(container().stores.moderation) as db:
        accounts.end_session(db, session.get("sid"))
    session.clear()
    return redirect(url_for("auth.login"), 303)
