"""Public JSON API: thin adapters from HTTP to :mod:`shared.intake.submit` and :mod:`shared.articles`."""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl

import uuid_utils
from flask import Blueprint, current_app, g, jsonify, redirect, request, url_for
from werkzeug.exceptions import BadRequest, NotFound, UnsupportedMediaType

from services.http import container, problem
from services.openapi import spec
from shared import commenter, formtoken
from shared.articles import (
    BadCursor,
    article_json,
    comment_count,
    published_json,
    published_page,
    valid_slug,
)
from shared.intake.submit import (
    KEY_FIELD,
    IntakeError,
    RequestMeta,
    find_replay,
    submit_comment,
)
from shared.models import Article, Comment

public_api = Blueprint("public_api", __name__, url_prefix="/api/v1")


FORM = "application/x-www-form-urlencoded"


@public_api.url_value_preprocessor
def _no_nul_in_paths(endpoint, values) -> None:
    """No slug or id holds NUL, and PostgreSQL refuses it in text: such a path was
    answered as the store being unavailable (a 503), not as the 404 it is."""
    if values and any("\x00" in value for value in values.values() if isinstance(value, str)):
        raise NotFound("There is no such resource.")


def _wants_html() -> bool:
    return request.mimetype == FORM and "text/html" in request.headers.get("Accept", "")


def _submission() -> tuple[dict, bool]:
    """The submitted fields and whether they came from an HTML form."""
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadRequest("The body is not a valid JSON object.")
        return data, False
    if request.mimetype == FORM:
        # Parsed here rather than by werkzeug, which keeps an escape that is not UTF-8
        # (%E9 from a page in Latin-1) as the literal text "%E9", to be stored as if the
        # reader had written it, and turns a raw byte that is not UTF-8 into an empty
        # form, answered as fields missing.
        try:
            pairs = parse_qsl(request.get_data().decode(), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise BadRequest("The form body is not valid UTF-8.") from None
        data: dict[str, str] = {}
        for key, value in pairs:
            data.setdefault(key, value)  # the first of repeated fields, as a form's get()
        return data, True
    raise UnsupportedMediaType(
        f"Send {FORM} or application/json, not {request.mimetype or 'nothing'}."
    )


@public_api.post("/articles/<slug>/comments")
def post_comment(slug: str):
    """Accept a comment: 202 (JSON) or 303 (form) only once it is committed."""
    parley = container()
    limiter = current_app.extensions["parley_limiter"]
    data, from_form = _submission()
    meta = RequestMeta(
        user_ip=request.remote_addr or "0.0.0.0",
        user_agent=request.user_agent.string or None,
        referrer=request.referrer,
        accept_language=request.headers.get("Accept-Language"),
        idempotency_key=_idempotency_key(data, from_form),
        request_id=g.request_id,
        commenter_token=_presented_commenter(),
        from_form=from_form,
    )
    try:
        replay = find_replay(parley, meta.idempotency_key, slug, data, meta.commenter_token)
    except IntakeError as exc:
        return _refused(exc, slug, data)
    if replay is None and limiter.enabled:
        wait = limiter.retry_after(meta.user_ip)
        if wait:
            return _refuse(
                429,
                "Too many comments",
                f"Please wait {wait} seconds before posting again.",
                slug,
                data,
                {"Retry-After": str(wait)},
            )
    try:
        accepted = replay or submit_comment(parley, slug, data, meta, replay_checked=True)
    except IntakeError as exc:
        return _refused(exc, slug, data)
    if not accepted.replayed:
        limiter.hit(meta.user_ip)
    if from_form:
        # A path, not a URL: the Host header never names where the reader goes.
        page = url_for("pages.article", slug=accepted.article) + "#comment-pending"
        return _keep_commenter(redirect(page, 303), accepted.commenter_token)
    status_url = _status_url(accepted.id)
    body = dict(id=accepted.id, status="pending", status_url=status_url)
    if accepted.commenter_token:
        body["commenter_token"] = accepted.commenter_token
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = status_url
    return response


def _presented_commenter() -> str | None:
    """The reader's commenter token from the header (API clients) or the cookie (the
    demo page's form); a ``commenter_token`` field in the body comes before both."""
    token = request.headers.get(commenter.HEADER)
    if token or "HTTP_COOKIE" not in request.environ:
        # Without a Cookie header there is no cookie to read: request.cookies would walk
        # every header and build an empty dict for nothing (about 5 % of the app's time
        # on a comment, in the intake benchmark's profile).
        return token or None
    return request.cookies.get(commenter.COOKIE)


def _keep_commenter(response, token: str | None):
    """The form's reader keeps their commenter key (shared.commenter) in a cookie of this
    origin that scripts cannot read and other sites' posts do not carry (HttpOnly,
    SameSite=Lax), sent only to the comment paths, for a year after their last comment."""
    if token:
        response.set_cookie(
            commenter.COOKIE,
            token,
            max_age=commenter.COOKIE_MAX_AGE,
            path=commenter.COOKIE_PATH,
            secure=request.is_secure or container().settings.site_url.startswith("https:"),
            httponly=True,
            samesite="Lax",
        )
    return response


def _idempotency_key(data: dict, from_form: bool) -> str | None:
    """The request's ``Idempotency-Key`` header, or for a form post without one its
    ``idempotency_key`` field (the demo page's form draws one per page)."""
    key = request.headers.get("Idempotency-Key")
    if key is None and from_form:
        key = data.get("idempotency_key")
    return (key or "").strip() or None


@public_api.app_template_global()
def new_idempotency_key() -> str:
    """A key for one rendering of a comment form (the demo page's hidden
    ``idempotency_key``): the same form sent twice is one comment and one answer."""
    return uuid_utils.uuid4().hex


def _status_url(comment_id: str) -> str:
    """The 202's ``status_url`` (and ``Location``): the comment's status on the site.

    Building it with ``url_for`` was about 3 % of an api process's Python time on a
    comment (py-spy, the intake benchmark); an id of letters and digits (every id Parley
    makes) is the same path with that id at its end, so the rest is built once."""
    if comment_id.isascii() and comment_id.isalnum():
        return _status_url_prefix(container().settings.site_url) + comment_id
    return _on_site(url_for("public_api.comment_status", comment_id=comment_id))


@functools.lru_cache(maxsize=8)
def _status_url_prefix(site_url: str) -> str:
    # site_url is the key: _on_site puts the URL on it (and drops the script root).
    built = _on_site(url_for("public_api.comment_status", comment_id="0"))
    return built.removesuffix("0")


def _on_site(path: str) -> str:
    """The URL of this app's ``path`` on the configured site (``PARLEY_SITE_URL``), never
    on whatever host the request named: a ``Host`` header is the client's to write."""
    path = path.removeprefix(request.script_root)
    return container().settings.site_url.rstrip("/") + path


def _refused(exc: IntakeError, slug: str, data: dict):
    """The answer to a refused submission (see :func:`_refuse`)."""
    if exc.errors and KEY_FIELD in exc.errors:
        # The key itself was refused: the form shown again draws a new one.
        data = {name: value for name, value in data.items() if name != "idempotency_key"}
    return _refuse(exc.status, exc.title, exc.detail, slug, data, errors=exc.errors)


def _refuse(status, title, detail, slug, data, headers=None, errors=None):
    """A refusal: problem+json, or the article page with the message for a browser form."""
    if _wants_html():
        from services.api.pages import render_article

        return render_article(
            slug, status=status, form=data, errors=errors, message=detail, headers=headers
        )
    return problem(status, title, detail, errors=errors, headers=headers)


@public_api.get("/articles/<slug>/comments")
def list_comments(slug: str):
    """Published comments, oldest first (``?order=newest``: newest first), keyset-paged,
    with an ETag."""
    order = request.args.get("order", "oldest")
    if order not in ("oldest", "newest"):
        return problem(
            422,
            "Invalid fields",
            "order must be oldest or newest",
            errors={"order": ["must be oldest or newest"]},
        )
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        return problem(
            422,
            "Invalid fields",
            "limit must be a whole number",
            errors={"limit": ["must be a whole number"]},
        )
    if limit < 1:
        return problem(
            422,
            "Invalid fields",
            "limit must be at least 1",
            errors={"limit": ["must be at least 1"]},
        )
    limit = min(limit, 100)
    with container().stores.articles_read() as session:
        if session.get(Article, slug) is None:
            return problem(404, "Unknown article", f"There is no article {slug!r}.")
        try:
            page = published_page(
                session, slug, limit, request.args.get("cursor") or None, newest=order == "newest"
            )
        except BadCursor:
            return problem(
                422, "Invalid fields", "cursor is not valid", errors={"cursor": ["is not valid"]}
            )
        body = {
            "article": slug,
            "comments": [published_json(row) for row in page.comments],
            "next_cursor": page.next_cursor,
        }
    response = jsonify(body)
    response.add_etag()
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@public_api.get("/articles/<slug>")
def get_article(slug: str):
    with container().stores.articles_read() as session:
        article = session.get(Article, slug)
        if article is None:
            return problem(404, "Unknown article", f"There is no article {slug!r}.")
        body = article_json(article, comment_count(session, slug))
    # Whether a commenter may ask for mail (PARLEY_SMTP_URL set): the widget's "notify me" box.
    body["notify"] = container().settings.mail_configured
    return jsonify(body)


@public_api.get("/articles/<slug>/form-token")
def form_token(slug: str):
    """A signed form token. With PARLEY_SITE_ORIGINS set, for any slug an article may
    have: the widget on a new story asks before its first comment registers it."""
    with container().stores.articles_read() as session:
        unknown = session.get(Article, slug) is None
    if unknown and not (container().settings.site_origins and valid_slug(slug)):
        return problem(404, "Unknown article", f"There is no article {slug!r}.")
    response = jsonify(form_token=formtoken.issue(container().settings.secret_key, slug))
    response.headers["Cache-Control"] = "no-store"
    return response


@public_api.get("/comments/<comment_id>")
def comment_status(comment_id: str):
    """Public status: only ``pending`` or ``published``; a verdict is never shown."""
    with container().stores.moderation_read() as session:
        comment = session.get(Comment, comment_id[:64])
        if comment is None:
            return problem(404, "Unknown comment", "There is no such comment.")
        status = "published" if comment.status == "published" else "pending"
        return jsonify(id=comment.id, article=comment.article_slug, status=status)


@public_api.get("/openapi.json")
def openapi():
    """This api's operations: the public API, and the admin API only where it is served
    here (PARLEY_ADMIN_API_ON_PUBLIC=1); the dashboard describes both."""
    settings = container().settings
    return jsonify(spec(settings.site_url.rstrip("/"), admin=settings.admin_api_on_public))
