"""The Quality page (admins): each rule and the classifier measured against the moderators'
decisions, trials with what they would have changed, and the model's learning curve."""

from __future__ import annotations

from flask import Blueprint, render_template

from services.dashboard.auth import admin_required
from services.http import container
from shared.moderation import quality as dq

quality_pages = Blueprint("quality", __name__, url_prefix="/admin")


@quality_pages.get("/quality")
@admin_required
def quality():
    parley = container()
    with parley.stores.moderation_read() as session:
        body = dq.quality(session, parley.settings)
    rules = [row for row in body["rules"] if not row.get("trial")]
    trials = [row for row in body["rules"] if row.get("trial")]
    curve = body["classifier"].get("learning_curve") or []
    columns = list(
        dict.fromkeys(key for point in curve if isinstance(point, dict) for key in point)
    )
    return render_template(
        "quality.html",
        labelled=body["labelled"],
        rules=rules,
        trials=trials,
        classifier=body["classifier"],
        curve=[point for point in curve if isinstance(point, dict)],
        columns=columns,
        active="quality",
    )
