"""Signing in and out, and the guards every dashboard view uses."""

from __future__ import annotations

import hashlib
import logging
from functools import wraps

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from services.dashboard.security import wants_json
from services.http import container, problem
from shared import accounts
from shared.db import session_scope

log = logging.getLogger(__name__)

auth = Blueprint("auth", __name__, url_prefix="/admin")


def _password_mark(password_hash: str) -> str:
    # Stored in the session: a password change signs out every other session.
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def current_moderator() -> accounts.Moderator | None:
    """The signed-in, enabled moderator of this request (loaded once per request)."""
    if "moderator" not in g:
        g.moderator = None
        moderator_id = session.get("mid")
        if moderator_id is not None:
            with container().stores.moderation_read() as db:
                moderator = db.get(accounts.Moderator, moderator_id)
            if (
                moderator is not None
                and not moderator.disabled
                and session.get("pw") == _password_mark(moderator.password_hash)
            ):
                g.moderator = moderator
            else:
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
    wait = throttle.retry_after(email, ip)
    if wait:
        minutes = max(1, round(wait / 60))
        message = (
            f"Too many failed sign-ins ({throttle.limit}). "
            f"Try again in about {minutes} minute{'s' if minutes != 1 else ''}."
        )
        html = render_template("login.html", next=next_url, email=email, error=message)
        return html, 429, {"Retry-After": str(wait)}
    with session_scope(container().stores.moderation) as db:
        moderator = accounts.authenticate(db, email, password)
        if moderator is not None:
            accounts.audit(db, moderator.email, "login", moderator.email, ip=ip)
            mark = _password_mark(moderator.password_hash)
    if moderator is None:
        throttle.failed(email, ip)
        log.warning("dashboard sign-in failed", extra={"ip": ip})
        return render_template(
            "login.html",
            next=next_url,
            email=email,
            error="Wrong e-mail or password (or the account is disabled).",
        )
    throttle.succeeded(email)
    session.clear()  # a fresh session (and CSRF token) for the signed-in moderator
    session.permanent = True
    session["mid"] = moderator.id
    session["pw"] = mark
    g.moderator = moderator
    return redirect(next_url, 303)


@auth.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"), 303)
