"""``GET /api/v1/openapi.json`` on the dashboard: the whole API described, the admin API's
operations (docs/contract.md §4, served here) with the public ones (§3, the api's). The
api's own document leaves the admin paths out unless it serves them."""

from __future__ import annotations

from flask import Blueprint, jsonify

from services import http
from services.openapi import spec

apidoc = Blueprint("apidoc", __name__)


@apidoc.get("/api/v1/openapi.json")
def openapi():
    return jsonify(spec(http.container().settings.dashboard_url.rstrip("/")))
