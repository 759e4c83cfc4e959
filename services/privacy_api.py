"""Privacy endpoints of the admin JSON API (docs/contract.md §4): export and erase what is
stored about one e-mail address. Served wherever :mod:`services.admin_api` is, under its
prefix (and its ``Cache-Control: no-store``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from services.http import container, problem, require_admin_token
from shared.privacy.address import AddressError
from shared.privacy.erase import MODES, erase_author
from shared.privacy.export import export_author

privacy_api = Blueprint("privacy_api", __name__, url_prefix="/api/v1/admin")


def _actor() -> str:
    return (request.headers.get("X-Parley-Actor") or "admin-api")[:254]


def _bad_address(exc: AddressError):
    return problem(422, "Invalid fields", f"email {exc}", errors={"email": [str(exc)]})


# ``path``: an address may hold a "/" (sent as %2F, which the server decodes first).
@privacy_api.get("/authors/<path:email>/export")
@require_admin_token
def export(email: str):
    """Everything stored about the address, as one JSON object written as it is read."""
    try:
        chunks = export_author(container(), email, _actor())
    except AddressError as exc:
        return _bad_address(exc)
    response = Response(chunks, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@privacy_api.delete("/authors/<path:email>")
@require_admin_token
def erase(email: str):
    """Erase what is stored about the address; ``?published=delete|anonymise``."""
    mode = request.args.get("published") or "delete"
    if mode not in MODES:
        message = f"must be one of {', '.join(MODES)}"
        return problem(
            422, "Invalid fields", f"published {message}", errors={"published": [message]}
        )
    try:
        done = erase_author(container(), email, mode, _actor())
    except AddressError as exc:
        return _bad_address(exc)
    return jsonify(done.as_json())
