"""The Mail page: whether Parley sends mail (``PARLEY_SMTP_URL``), the signed-in moderator's
own digest (on or off), and the mail log of the last days."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.dashboard.auth import actor, current_moderator, login_required
from services.http import container
from shared import accounts
from shared.db import session_scope
from shared.mail import log as mail_log
from shared.mail import optout
from shared.mail.smtpurl import parse_smtp_url

mail_pages = Blueprint("mail", __name__, url_prefix="/admin")


@mail_pages.get("/mail")
@login_required
def mail():
    parley = container()
    settings = parley.settings
    with parley.stores.moderation_read() as session:
        digest_on = not optout.opted_out(session, current_moderator().email)
        counts, rows = mail_log.recent(session)
    return render_template(
        "mail.html",
        configured=settings.mail_configured,
        server=parse_smtp_url(settings.smtp_url).shown() if settings.mail_configured else None,
        sender=settings.mail_from,
        minutes=settings.moderator_digest_minutes,
        digest_on=digest_on,
        counts=counts,
        rows=rows,
        active="mail",
    )


@mail_pages.post("/mail/digest")
@login_required
def digest():
    """Turn the signed-in moderator's own digest on or off (their address's opt-out)."""
    on = request.form.get("digest") == "on"
    email = current_moderator().email
    with session_scope(container().stores.moderation) as session:
        if on:
            optout.opt_in(session, email)
        else:
            optout.opt_out(session, optout.address_hash(email), "dashboard")
        accounts.audit(session, actor(), "mail.digest", email, on=on)
    flash(
        "Your digest is on." if on else "Your digest is off: Parley sends you no more mail.",
        "ok",
    )
    return redirect(url_for("mail.mail"), 303)
