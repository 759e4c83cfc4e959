"""The Privacy page (admins): export or erase everything stored about one e-mail address
(the admin API's export and erasure, docs/contract.md §4), with the admin as the actor."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from services.dashboard.auth import actor, admin_required
from services.http import container
from shared.privacy.address import AddressError, lookup_address
from shared.privacy.erase import MODES, erase_author
from shared.privacy.export import export_author

privacy_pages = Blueprint("privacy", __name__, url_prefix="/admin")


@privacy_pages.get("/privacy")
@admin_required
def privacy():
    return render_template("privacy.html", modes=MODES, active="privacy")


def _address() -> str | None:
    try:
        return lookup_address(request.form.get("email", ""))
    except AddressError as exc:
        flash(f"E-mail address {exc}.", "error")
        return None


@privacy_pages.post("/privacy/export")
@admin_required
def export():
    """The export as a file to save."""
    address = _address()
    if address is None:
        return redirect(url_for("privacy.privacy"), 303)
    response = Response(export_author(container(), address, actor()), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="parley-export.json"'
    return response


@privacy_pages.post("/privacy/erase")
@admin_required
def erase():
    """Erase, once the admin has typed the address a second time to confirm."""
    address = _address()
    mode = request.form.get("published", "delete")
    if address is None:
        return redirect(url_for("privacy.privacy"), 303)
    confirm = request.form.get("confirm", "")
    try:
        confirmed = lookup_address(confirm).lower() == address.lower()
    except AddressError:
        confirmed = False
    if not confirmed or mode not in MODES:
        flash("Nothing was erased: type the same address again in the confirmation box.", "error")
        return redirect(url_for("privacy.privacy"), 303)
    done = erase_author(container(), address, mode, actor()).as_json()
    flash(
        f"Erased {done['comments_erased']} comments: {done['published_removed']} removed "
        f"from the site, {done['published_anonymised']} kept as by \u201cdeleted\u201d.",
        "ok",
    )
    return redirect(url_for("privacy.privacy"), 303)
