"""``POST /api/v1/comments/{id}/reports``: a reader reports a published comment
(docs/contract.md §3); a thin adapter over :mod:`shared.moderation.reports`."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

# The comment intake's body parser and commenter-token lookup, the same for both.
from services.api.views import _presented_commenter, _submission
from services.http import container, problem
from shared.moderation import reports
from shared.validation import validate_report

reader_reports = Blueprint("reader_reports", __name__, url_prefix="/api/v1")


@reader_reports.post("/comments/<comment_id>/reports")
def report_comment(comment_id: str):
    """202 counted, 200 a repeat by the same reader, 404 unknown or not published, 422 bad
    fields, 429 with Retry-After over the limit."""
    data, _ = _submission()
    report, errors = validate_report(data)
    if report is None:
        return problem(
            422, "Invalid fields", "Some fields are not valid; see errors.", errors=errors
        )
    parley = container()
    ip = request.remote_addr or "0.0.0.0"
    reader = reports.reader_for(
        parley.settings.secret_key, report.commenter_token or _presented_commenter(), ip
    )
    limiter = current_app.extensions["parley_report_limiter"]
    wait = limiter.retry_after(ip, reader.key if reader.kind == "commenter" else None)
    if wait:
        return problem(
            429,
            "Too many reports",
            f"Please wait {wait} seconds before reporting again.",
            headers={"Retry-After": str(wait)},
        )
    if not (0 < len(comment_id) <= 32 and comment_id.isascii() and comment_id.isalnum()):
        return _unknown()
    filed = reports.file_report(parley, comment_id, reader, report.reason, report.note)
    if filed.outcome == "not_found":
        return _unknown()
    counted = filed.outcome == "counted"
    response = jsonify(comment_id=comment_id, counted=counted)
    response.status_code = 202 if counted else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def _unknown():
    return problem(404, "Unknown comment", "There is no such published comment.")
