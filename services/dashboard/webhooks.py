"""The Webhooks page (admins): endpoints with their state and why one was disabled, a form
to register one (its secret shown once, in the answer to that form), delete, enable
again, replay, and each endpoint's recent deliveries (shared.webhooks)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from services.dashboard.auth import actor, admin_required
from services.http import container
from shared.db import session_scope
from shared.webhooks import endpoints

webhook_pages = Blueprint("webhooks", __name__, url_prefix="/admin")
RECENT = 20  # deliveries shown per endpoint


def _page(created: dict | None = None, errors: dict | None = None, status: int = 200):
    parley = container()
    with parley.stores.moderation_read() as session:
        shown = []
        for endpoint in endpoints.list_endpoints(session):
            recent, _ = endpoints.deliveries(session, endpoint.id, RECENT)
            shown.append(
                {
                    **endpoints.endpoint_json(endpoint),
                    "deliveries": [endpoints.delivery_json(row) for row in recent],
                }
            )
    response = make_response(
        render_template(
            "webhooks.html",
            webhooks=shown,
            event_types=endpoints.EVENT_TYPES,
            created=created,
            errors=errors or {},
            form=request.form if errors else {},
            allow_private=parley.settings.webhook_allow_private,
            active="webhooks",
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the secret, once
    return response


@webhook_pages.get("/webhooks")
@admin_required
def webhooks():
    return _page()


@webhook_pages.post("/webhooks")
@admin_required
def create():
    """Register an endpoint; the answer shows its secret, this once (no redirect)."""
    parley = container()
    data = {
        "url": (request.form.get("url") or "").strip(),
        "events": request.form.getlist("events"),
    }
    if (request.form.get("secret") or "").strip():
        data["secret"] = request.form["secret"].strip()
    try:
        with session_scope(parley.stores.moderation) as session:
            created = endpoints.create(
                session, data, actor(), parley.settings.webhook_allow_private
            )
    except endpoints.Invalid as exc:
        return _page(errors=exc.errors, status=422)
    return _page(created=created)


@webhook_pages.post("/webhooks/<endpoint_id>/delete")
@admin_required
def delete(endpoint_id: str):
    with session_scope(container().stores.moderation) as session:
        found = endpoints.remove(session, endpoint_id, actor())
    flash("Webhook deleted." if found else "No such webhook.", "ok" if found else "error")
    return redirect(url_for("webhooks.webhooks"), 303)


@webhook_pages.post("/webhooks/<endpoint_id>/enable")
@admin_required
def enable(endpoint_id: str):
    with session_scope(container().stores.moderation) as session:
        found = endpoints.enable(session, endpoint_id, actor()) is not None
    flash(
        "Enabled again: its pending deliveries are tried again." if found else "No such webhook.",
        "ok" if found else "error",
    )
    return redirect(url_for("webhooks.webhooks"), 303)


@webhook_pages.post("/webhooks/<endpoint_id>/replay")
@admin_required
def replay(endpoint_id: str):
    parley = container()
    data = {"since": request.form.get("since") or None, "until": request.form.get("until") or None}
    try:
        with session_scope(parley.stores.moderation) as session:
            endpoint = endpoints.get(session, endpoint_id)
            if endpoint is None:
                flash("No such webhook.", "error")
                return redirect(url_for("webhooks.webhooks"), 303)
            ids = endpoints.replay(session, parley.settings, endpoint, data, actor())
    except endpoints.Invalid as exc:
        for field, messages in exc.errors.items():
            flash(f"{field} {messages[0]}", "error")
        return redirect(url_for("webhooks.webhooks") + f"#webhook-{endpoint_id}", 303)
    parley.queue_deliveries(ids)
    flash(f"Replaying {len(ids)} events.", "ok")
    return redirect(url_for("webhooks.webhooks") + f"#webhook-{endpoint_id}", 303)
