"""Webhook endpoints of the admin JSON API (docs/contract.md §4): register, list, delete,
enable again, deliveries, replay. Served wherever :mod:`services.admin_api` is, under its
prefix (and its ``Cache-Control: no-store``); the work is in :mod:`shared.webhooks`."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from services.http import container, json_body, problem, require_admin_token
from shared.db import session_scope
from shared.webhooks import endpoints

webhooks_api = Blueprint("webhooks_api", __name__, url_prefix="/api/v1/admin/webhooks")


def _actor() -> str:
    return (request.headers.get("X-Parley-Actor") or "admin-api")[:254]


def _invalid(exc: endpoints.Invalid):
    return problem(
        422, "Invalid fields", "Some fields are not valid; see errors.", errors=exc.errors
    )


def _unknown():
    return problem(404, "Unknown webhook", "There is no such webhook endpoint.")


@webhooks_api.post("")
@require_admin_token
def create():
    """Register an endpoint: 201 with its secret, the only time the secret is shown."""
    data = json_body()
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    parley = container()
    try:
        with session_scope(parley.stores.moderation) as session:
            body = endpoints.create(session, data, _actor(), parley.settings.webhook_allow_private)
    except endpoints.Invalid as exc:
        return _invalid(exc)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for(".deliveries", endpoint_id=body["id"])
    return response


@webhooks_api.get("")
@require_admin_token
def list_all():
    """Every endpoint, with whether it is enabled and why not; never a secret."""
    with container().stores.moderation_read() as session:
        rows = [endpoints.endpoint_json(e) for e in endpoints.list_endpoints(session)]
    return jsonify({"webhooks": rows})


@webhooks_api.delete("/<endpoint_id>")
@require_admin_token
def remove(endpoint_id: str):
    with session_scope(container().stores.moderation) as session:
        found = endpoints.remove(session, endpoint_id, _actor())
    return ("", 204) if found else _unknown()


@webhooks_api.post("/<endpoint_id>/enable")
@require_admin_token
def enable(endpoint_id: str):
    """Enable an endpoint that was disabled for failing (an addition)."""
    with session_scope(container().stores.moderation) as session:
        endpoint = endpoints.enable(session, endpoint_id, _actor())
        body = endpoints.endpoint_json(endpoint) if endpoint else None
    return jsonify(body) if body else _unknown()


@webhooks_api.get("/<endpoint_id>/deliveries")
@require_admin_token
def deliveries(endpoint_id: str):
    """The endpoint's deliveries, newest first: ``?limit=`` (≤ 100), ``?cursor=``."""
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        return problem(
            422,
            "Invalid fields",
            "limit must be a whole number",
            errors={"limit": ["must be a whole number"]},
        )
    with container().stores.moderation_read() as session:
        if endpoints.get(session, endpoint_id) is None:
            return _unknown()
        try:
            rows, next_cursor = endpoints.deliveries(
                session, endpoint_id, limit, request.args.get("cursor") or None
            )
        except ValueError as exc:
            field = "limit" if "limit" in str(exc) else "cursor"
            return problem(422, "Invalid fields", str(exc), errors={field: [str(exc)]})
        body = {
            "deliveries": [endpoints.delivery_json(row) for row in rows],
            "next_cursor": next_cursor,
        }
    return jsonify(body)


@webhooks_api.post("/<endpoint_id>/replay")
@require_admin_token
def replay(endpoint_id: str):
    """Send again, as new deliveries, the events of ``since`` ≤ at < ``until`` (default
    now) of the endpoint's types, oldest first: 202 with how many."""
    data = json_body()
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    parley = container()
    try:
        with session_scope(parley.stores.moderation) as session:
            endpoint = endpoints.get(session, endpoint_id)
            if endpoint is None:
                return _unknown()
            ids = endpoints.replay(session, parley.settings, endpoint, data, _actor())
    except endpoints.Invalid as exc:
        return _invalid(exc)
    parley.queue_deliveries(ids)
    response = jsonify({"deliveries": len(ids)})
    response.status_code = 202
    return response
