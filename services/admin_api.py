"""Admin JSON API (docs/contract.md §4), served by the dashboard (and by the api only with
``PARLEY_ADMIN_API_ON_PUBLIC=1``, docs/contract.md §1)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from services.http import container, json_body, problem, require_admin_token
from shared.articles import (
    MODERATION_MODES,
    BadCursor,
    admin_article_json,
    article_page,
    comment_count,
    upsert_article,
    valid_slug,
    validate_article,
)
from shared.db import session_scope
from shared.models import Article
from shared.moderation import actions, quality, queries, reports, rulebook
from shared.moderation.modes import MODES, WEIGHT_RANGE, valid_weight
from shared.moderation.queries import Filters
from shared.moderation.states import MODERATOR_ACTIONS, NOTE_RULE, valid_note

admin_api = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")


@admin_api.after_app_request
def _no_store(response):
    """Every answer under the admin API's prefix, errors included (a 401, an unknown path, a
    405 that never reached a view), holds private data or says what exists: no browser or
    proxy may keep it (docs/contract.md §4)."""
    if f"{request.path}/".startswith(f"{admin_api.url_prefix}/"):
        response.headers["Cache-Control"] = "no-store"
    return response


@admin_api.put("/articles/<slug>")
@require_admin_token
def put_article(slug: str):
    """Register or update an article: 201 created, 200 updated."""
    if not valid_slug(slug):
        return problem(
            422,
            "Invalid fields",
            "slug may hold letters, digits, '-', '_' and '.'",
            errors={"slug": ["may hold letters, digits, '-', '_' and '.' (1–200)"]},
        )
    data = json_body()
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    fields, errors = validate_article(data)
    if errors:
        return problem(
            422, "Invalid fields", "Some fields are not valid; see errors.", errors=errors
        )
    with session_scope(container().stores.articles) as session:
        article, created = upsert_article(session, slug, fields)
        session.flush()
        body = admin_article_json(article, comment_count(session, slug))
    response = jsonify(body)
    response.status_code = 201 if created else 200
    return response


@admin_api.get("/articles/<slug>")
@require_admin_token
def get_article(slug: str):
    """An article with its moderation mode."""
    with container().stores.articles_read() as session:
        article = session.get(Article, slug[:200])
        if article is None:
            return problem(404, "Unknown article", f"There is no article {slug!r}.")
        return jsonify(admin_article_json(article, comment_count(session, article.slug)))


@admin_api.get("/articles")
@require_admin_token
def list_articles():
    """Articles newest first, with their moderation modes; ``?moderation=`` keeps one mode."""
    args = request.args
    errors = {}
    try:
        limit = int(args.get("limit", 50))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 500:
        errors["limit"] = ["must be a whole number from 1 to 500"]
    mode = args.get("moderation") or None
    if mode is not None and mode not in MODERATION_MODES:
        errors["moderation"] = [f"must be one of {', '.join(MODERATION_MODES)}"]
    text = args.get("q") or None
    if not errors:
        try:
            with container().stores.articles_read() as session:
                rows, next_cursor = article_page(
                    session, limit, args.get("cursor") or None, moderation=mode, text=text
                )
                body = {
                    "articles": [admin_article_json(a, n) for a, n in rows],
                    "next_cursor": next_cursor,
                }
            return jsonify(body)
        except BadCursor:
            errors["cursor"] = ["is not valid"]
    field = next(iter(errors))
    return problem(422, "Invalid fields", f"{field} {errors[field][0]}", errors=errors)


def _filters_from_args():
    args = request.args
    return Filters(
        status=args.get("status") or None,
        article=args.get("article") or None,
        text=args.get("q") or None,
        author=args.get("author") or None,
        email=args.get("email") or None,
        ip=args.get("ip") or None,
        reported=_flag("reported"),
    )


def _flag(name: str) -> bool:
    """A yes/no query parameter: 1/true/yes or 0/false/no (absent: no); else a 422."""
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise queries.BadQuery(name, "must be 1 or 0")


def _records(session, rows) -> list[dict]:
    """The records of ``rows`` with their readers' reports (shared.moderation.reports)."""
    found = reports.summaries(session, [row.id for row in rows])
    empty = reports.Summary().as_json()
    return [
        {
            **actions.record_json(row),
            "reports": found[row.id].as_json() if row.id in found else empty,
        }
        for row in rows
    ]


@admin_api.get("/comments")
@require_admin_token
def list_comments():
    """Moderators' list: filter by status, article, text, author, e-mail or IP; newest first."""
    try:
        limit = int(request.args.get("limit", 50))
        filters = _filters_from_args()
        with container().stores.moderation_read() as session:
            rows, next_cursor = queries.page(
                session, filters, limit, request.args.get("cursor") or None, with_history=True
            )
            body = {"comments": _records(session, rows), "next_cursor": next_cursor}
    except ValueError as exc:
        field = getattr(exc, "field", "limit")
        message = getattr(exc, "message", "must be a whole number")
        return problem(422, "Invalid fields", f"{field} {message}", errors={field: [message]})
    return jsonify(body)


@admin_api.get("/comments/<comment_id>")
@require_admin_token
def get_comment(comment_id: str):
    """The whole record: reasons, Akismet verdict and history."""
    try:
        comment = actions.load(container(), comment_id)
    except actions.CommentNotFound:
        return problem(404, "Unknown comment", "There is no such comment.")
    with container().stores.moderation_read() as session:
        return jsonify(_records(session, [comment])[0])


def _actor() -> str:
    return (request.headers.get("X-Parley-Actor") or "admin-api")[:254]


@admin_api.post("/comments/<comment_id>/actions")
@require_admin_token
def act(comment_id: str):
    """approve | spam | reject through the state machine; 409 for a move it does not allow."""
    data = json_body()
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    action, note = data.get("action"), data.get("note")
    errors = {}
    if not isinstance(action, str) or action not in MODERATOR_ACTIONS:  # {} is unhashable
        errors["action"] = [f"must be one of {', '.join(MODERATOR_ACTIONS)}"]
    if not valid_note(note):
        errors["note"] = [NOTE_RULE]
    if errors:
        return problem(
            422, "Invalid fields", "Some fields are not valid; see errors.", errors=errors
        )
    try:
        result = actions.moderate(container(), comment_id, action, _actor(), note)
    except actions.CommentNotFound:
        return problem(404, "Unknown comment", "There is no such comment.")
    except actions.IllegalTransition as exc:
        return problem(409, "Conflict", str(exc))
    return jsonify(actions.record_json(result.comment))


@admin_api.get("/rules")
@require_admin_token
def list_rules():
    """Every rule (the classifier too) with its mode and weight in force."""
    parley = container()
    with parley.stores.moderation_read() as session:
        rows = rulebook.rule_rows(session, parley.settings)
    return jsonify([row.as_json() for row in rows])


@admin_api.put("/rules/<rule>")
@require_admin_token
def put_rule(rule: str):
    """Set a rule on, on trial or off, and optionally its weight (null: the default)."""
    if rule not in rulebook.rule_names():
        return problem(404, "Unknown rule", "There is no such rule; GET /rules lists them.")
    data = json_body()
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    errors = {}
    if data.get("mode") not in MODES:
        errors["mode"] = [f"must be one of {', '.join(MODES)}"]
    weight = data.get("weight")
    if weight is not None and not valid_weight(weight):
        low, high = WEIGHT_RANGE
        errors["weight"] = [f"must be a number from {low:g} to {high:g}, or null (the default)"]
    if errors:
        return problem(
            422, "Invalid fields", "Some fields are not valid; see errors.", errors=errors
        )
    parley = container()
    extra = {"weight": weight} if "weight" in data else {}
    with session_scope(parley.stores.moderation) as session:
        row = rulebook.set_rule(session, parley.settings, rule, data["mode"], _actor(), **extra)
        body = row.as_json()
    parley.policy_cache.invalidate()  # this process's; the workers' reread within seconds
    return jsonify(body)


@admin_api.get("/quality")
@require_admin_token
def get_quality():
    """Each rule's and the classifier's record against the moderators' decisions."""
    parley = container()
    with parley.stores.moderation_read() as session:
        body = quality.quality(session, parley.settings)
    return jsonify(body)
