"""The activity log page: moderators' decisions and admins' changes, filterable."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from services.dashboard.auth import login_required
from services.http import container
from shared.moderation import activity as da

activity_pages = Blueprint("activity", __name__, url_prefix="/admin")


@activity_pages.get("/activity")
@login_required
def activity():
    args = request.args
    error = None
    try:
        filters = da.ActivityFilters.parse(
            args.get("actor"), args.get("action"), args.get("from"), args.get("to")
        )
        before = da.parse_before(args.get("before"))
    except (da.BadFilter, ValueError) as exc:
        error = str(exc) if isinstance(exc, da.BadFilter) else "before must be an ISO 8601 time"
        filters, before = da.ActivityFilters(), None
    with container().stores.moderation_read() as session:
        items, next_before = da.activity(session, filters, before)
        actors = da.actors(session)
    kept = {k: v for k, v in args.items() if k != "before" and v}
    status = 422 if error else 200
    return render_template(
        "activity.html",
        items=items,
        next_before=next_before,
        actors=actors,
        actions=da.COMMENT_ACTIONS + da.AUDIT_ACTIONS,
        args=kept,
        error=error,
        active="activity",
    ), status
