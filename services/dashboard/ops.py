"""The ops page: charts of the last hour, drawn in the browser from /admin/ops/data."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from redis.exceptions import RedisError

from services.dashboard.auth import login_required
from services.http import container, problem
from shared.ops.series import ops_series

ops_pages = Blueprint("ops", __name__, url_prefix="/admin")


@ops_pages.get("/ops")
@login_required
def ops():
    return render_template("ops.html", active="ops")


@ops_pages.get("/ops/data")
@login_required
def ops_data():
    try:
        return jsonify(ops_series(container()))
    except RedisError:
        # The series lives in Redis; the page shows this and keeps polling.
        return problem(
            503,
            "Ops data unavailable",
            "Redis cannot be reached; the charts resume when it answers.",
            headers={"Retry-After": "15"},
        )
