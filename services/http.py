"""HTTP plumbing shared by the api and dashboard apps: problem documents, request ids,
health checks, request metrics, NUL refused in paths and query parameters, and bearer
tokens."""

from __future__ import annotations

import hmac
import logging
from functools import wraps

import orjson
import uuid_utils
from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, NotFound

from shared import logs
from shared.bootstrap import Container
from shared.ops.metrics import HTTP_REQUESTS

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
DB_RETRY_AFTER = "5"


class FastJSON(DefaultJSONProvider):
    """Flask's JSON through orjson: reading a comment and writing its 202 take 4 µs
    instead of 9 (of the 200 or so the app spends on a comment, single-threaded).

    The documents are Flask's own (keys sorted, dates as HTTP dates, UUIDs and dataclasses
    as Flask writes them) except that text outside ASCII is written as UTF-8, not as
    ``\\u`` escapes. Whatever orjson cannot write (an integer beyond 64 bits, indented
    output in debug mode) goes the standard library's way.

    Reading is stricter in one way that matters: a string with a lone surrogate (``"\\ud800"``),
    which no UTF-8 text can hold, is invalid JSON (a 400) instead of text that fails
    later, in the store or in a hash (it was a 500).
    """

    # Dates and dataclasses go through Flask's own ``default`` (HTTP dates, sorted fields).
    _OPTIONS = (
        orjson.OPT_SORT_KEYS
        | orjson.OPT_NON_STR_KEYS
        | orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_DATACLASS
    )

    def _encoded(self, obj, option: int = 0) -> bytes | None:
        try:
            return orjson.dumps(obj, default=self.default, option=self._OPTIONS | option)
        except TypeError:  # orjson.JSONEncodeError included
            return None

    def dumps(self, obj, **kwargs) -> str:
        encoded = None if kwargs else self._encoded(obj)
        return encoded.decode() if encoded is not None else super().dumps(obj, **kwargs)

    def loads(self, s, **kwargs):
        return super().loads(s, **kwargs) if kwargs else orjson.loads(s)

    def response(self, *args, **kwargs):
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        encoded = self._encoded(self._prepare_response_obj(args, kwargs), orjson.OPT_APPEND_NEWLINE)
        if encoded is None:
            return super().response(*args, **kwargs)
        return self._app.response_class(encoded, mimetype=self.mimetype)


def container() -> Container:
    return current_app.extensions["parley"]


def problem(
    status: int, title: str, detail: str = "", *, errors=None, headers=None, type_="about:blank"
):
    """An RFC 9457 problem response."""
    body = {"type": type_, "title": title, "status": status, "detail": detail or title}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    if incoming and incoming.isprintable():
        g.request_id = incoming[:64]
    else:  # uuid-utils draws without a system call (see events.event_fields)
        g.request_id = uuid_utils.uuid4().hex
    # Log lines and queued tasks of this request carry its id; cleared when it ends.
    logs.REQUEST_ID.set(g.request_id)


def _no_nul():
    """Refuse NUL anywhere in the path (a 404: no slug, id or page holds one) or in a query
    parameter (a 422 naming it) before any view runs. PostgreSQL refuses NUL in text, so
    such a request reached the store and was answered, and logged, as the database being
    unavailable (a false 503); SQLite took it and found nothing."""
    if "\x00" in request.path:
        raise NotFound()
    if not request.query_string:
        return None  # no parameters (request.args would parse the empty string all the same)
    bad = sorted({name for name, value in request.args.items(multi=True) if "\x00" in name + value})
    if bad:
        return problem(
            422,
            "Invalid fields",
            "A query parameter holds a NUL character.",
            errors={name: ["must not contain NUL"] for name in bad},
        )
    return None


def _after(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    rule = request.url_rule.rule if request.url_rule else "unmatched"
    HTTP_REQUESTS.labels(endpoint=rule, status=str(response.status_code)).inc()
    return response


def _http_error(exc: HTTPException):
    headers = {}
    if exc.code == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429:
        headers["Retry-After"] = getattr(exc, "retry_after", None) or "60"
    return problem(exc.code or 500, exc.name, exc.description or exc.name, headers=headers)


def _db_error(exc: Exception):
    log.error("database unavailable", extra={"error": str(exc)[:300]})
    return problem(
        503,
        "Service unavailable",
        "The comment store cannot be reached right now; nothing was stored. Please retry.",
        headers={"Retry-After": DB_RETRY_AFTER},
    )


def _unexpected(exc: Exception):
    log.exception("unhandled error")
    return problem(500, "Internal server error", "Something went wrong on our side.")


def install(app: Flask, parley: Container) -> None:
    """Attach the container and the common handlers to ``app``."""
    app.extensions["parley"] = parley
    app.json = FastJSON(app)
    app.before_request(_request_id)
    app.before_request(_no_nul)
    # after_request hooks run last-registered first: this one ends the request.
    app.after_request(logs.forget_request_id)
    app.after_request(_after)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _db_error)
    app.register_error_handler(DBAPIError, _db_error)
    app.register_error_handler(TimeoutError, _db_error)
    app.register_error_handler(Exception, _unexpected)
    app.register_blueprint(health)


health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    """The process is alive (no dependency is checked)."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():
    """Ready only if both stores and Redis answer."""
    parley = container()
    checks = {}
    for name, engine in (
        ("database", parley.stores.moderation_engine),
        ("article_store", parley.stores.articles_engine),
    ):
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    try:
        parley.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    return response


def bearer_token_is(expected: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <expected>``, compared in
    constant time (a token must not leak one character per timing)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )


def require_admin_token(view):
    """Bearer-token guard of the admin JSON API. With no token configured, refuse all."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        expected = container().settings.admin_token
        if not expected or not bearer_token_is(expected):
            return problem(
                401,
                "Unauthorized",
                "A valid admin bearer token is required."
                if expected
                else "The admin API is disabled: PARLEY_ADMIN_TOKEN is not set.",
                headers={"WWW-Authenticate": 'Bearer realm="parley-admin"'},
            )
        return view(*args, **kwargs)

    return wrapped


def json_body() -> dict | None:
    """The request's JSON object, or None if the body is not a JSON object."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None
