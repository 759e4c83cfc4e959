"""Admin JSON API (CONTRACT §4), served by the dashboard and by the api."""

from __future__ import annotations

from flask import Blueprint, jsonify

from services.http import container, json_body, problem, require_admin_token
from shared.articles import article_json, comment_count, upsert_article, valid_slug, validate_article
from shared.db import session_scope

admin_api = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")


@admin_api.put("/articles/<slug>")
@require_admin_token
def put_article(slug: str):
    """Register or update an article: 201 created, 200 updated."""
    if not valid_slug(slug):
        return problem(422, "Invalid fields", "slug may hold letters, digits, '-', '_' and '.'",
                       errors={"slug": ["may hold letters, digits, '-', '_' and '.' (1–200)"]})
    data = json_body()
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    fields, errors = validate_article(data)
    if errors:
        return problem(422, "Invalid fields", "Some fields are not valid; see errors.", errors=errors)
    with session_scope(container().stores.articles) as session:
        article, created = upsert_article(session, slug, fields)
        session.flush()
        body = article_json(article, comment_count(session, slug))
    response = jsonify(body)
    response.status_code = 201 if created else 200
    return response
