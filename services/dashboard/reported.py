"""The Reported page: comments held by readers' reports, and published comments with reports
below the threshold, with the reasons and notes readers gave (shared.moderation.reports).

Approve, spam and reject go through the queues' action form (the state machine); a
published comment a moderator keeps gets its reports dismissed here.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from services.dashboard.auth import actor, login_required
from services.http import container
from shared.moderation import reports

reported_pages = Blueprint("reported", __name__, url_prefix="/admin")


@reported_pages.get("/reported")
@login_required
def reported():
    with container().stores.moderation_read() as session:
        queue = reports.reported_queue(session)
    return render_template(
        "reported.html",
        held=queue["held"],
        published=queue["published"],
        threshold=container().settings.report_threshold,
        active="reported",
    )


@reported_pages.post("/reported/<comment_id>/dismiss")
@login_required
def dismiss(comment_id: str):
    """Keep the comment published: its open reports are cleared (they stay, marked so)."""
    cleared = reports.dismiss(container(), comment_id[:32], actor())
    if cleared:
        flash(f"Kept: {cleared} report{'s' if cleared != 1 else ''} dismissed.", "ok")
    else:
        flash("That comment has no open reports any more.", "error")
    return redirect(url_for("reported.reported"), 303)
