"""OpenAPI 3.1 description of the public and admin JSON APIs."""

from __future__ import annotations

from functools import cache

from services import openapi_webhooks
from shared.articles import MODERATION_MODES
from shared.moderation.modes import MODES, WEIGHT_RANGE
from shared.moderation.states import MODERATOR_ACTIONS, STATUSES
from shared.validation import MAX_REPORT_NOTE, REPORT_REASONS

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _PROBLEM}},
    }


def _json(schema_ref: str, description: str = "OK") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def _json_body(required: list[str], properties: dict) -> dict:
    """A required JSON object request body."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_STR = {"type": "string"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_NSTR = {"type": ["string", "null"]}
_CURSOR = {
    "name": "cursor",
    "in": "query",
    "schema": _STR,
    "description": "A previous page's `next_cursor`; anything else is a 422.",
}
# The validation rules of shared/validation.py, as patterns (ECMA 262), so that a client
# can check a submission before sending it: some non-space text, and no control
# characters (a comment's text may also hold newlines and tabs).
_NO_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
_TEXT_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
_HTTP_URL = f"^https?://[^{_NO_CONTROL}\\s/?#]+([/?#][^{_NO_CONTROL}\\s]*)?$"


def _line(control: str) -> str:
    return f"^[^{control}]*[^{control}\\s][^{control}]*$"


_EMAIL = {
    "name": "email",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 254},
    "description": "Percent-encoded; compared without regard to letter case.",
}
_ROWS = {"type": "array", "items": {"type": "object"}}
_EXPORT = {
    "type": "object",
    "required": ["address", "exported_at", "comments", "published_comments"],
    "properties": {
        "address": _STR,
        "exported_at": _STR,
        "comments": _ROWS,
        "published_comments": _ROWS,
        "training_examples": _ROWS,
        "list_entries": _ROWS,
        "audit_log": _ROWS,
        "pending_events": _ROWS,
        "moderator_account": _ROWS,
        "reports_received": _ROWS,
        "reports_made": _ROWS,
        "mails": _ROWS,
        "mail_opt_out": _ROWS,
        "imports": _ROWS,
        "webhook_deliveries": _ROWS,
        "webhook_events": _ROWS,
    },
}
_ERASED = {
    "type": "object",
    "required": ["comments_erased", "published_removed", "published_anonymised"],
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in (
            "comments_erased",
            "published_removed",
            "published_anonymised",
            "training_examples_deleted",
            "list_entries_removed",
            "list_entries_kept",
            "audit_entries_scrubbed",
            "reports_deleted",
            "reports_made_anonymised",
            "mails_deleted",
        )
    },
}


@cache
def _paths() -> dict:
    submission = {
        "type": "object",
        "required": ["author_name", "author_email", "content"],
        "properties": {
            "author_name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "pattern": _line(_NO_CONTROL),
            },
            "author_email": {"type": "string", "format": "email", "maxLength": 254},
            "author_url": {
                "type": "string",
                "maxLength": 2048,
                "pattern": f"^$|{_HTTP_URL}",
                "description": "An http:// or https:// URL; empty for none.",
            },
            "content": {
                "type": "string",
                "minLength": 1,
                "maxLength": 10000,
                "pattern": _line(_TEXT_CONTROL),
                "description": "Stored NFC-normalised; newlines and tabs are kept.",
            },
            "parent_id": {"type": "string"},
            "website": {"type": "string", "description": "Honeypot: leave empty."},
            "notify": {
                "type": "boolean",
                "description": "Mail me about replies and when a moderator publishes this "
                "comment (only with PARLEY_SMTP_URL set). A form sends a checkbox: `true` or "
                "`on`; absent is false.",
            },
            "form_token": {"type": "string", "description": "Serves one comment."},
            "commenter_token": {"type": "string", "description": "From an earlier 202."},
            "author_token": {"type": "string", "description": "The host site's, signed."},
            "article_url": {
                "type": "string",
                "maxLength": 2048,
                "pattern": f"^$|{_HTTP_URL}",
                "description": "The widget's page: with PARLEY_SITE_ORIGINS set, a comment on "
                "an unknown slug registers the article once this page is verified.",
            },
            "article_title": {
                "type": "string",
                "maxLength": 500,
                "pattern": f"^[^{_NO_CONTROL}]*$",
                "description": "The page's title as the host knows it (used only if the "
                "verified page agrees).",
            },
        },
    }
    report = {
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {"enum": list(REPORT_REASONS)},
            "note": {
                "type": "string",
                "maxLength": MAX_REPORT_NOTE,
                "pattern": f"^[^{_TEXT_CONTROL}]*$",
                "description": "Trimmed and NFC-normalised; newlines and tabs allowed.",
            },
            "commenter_token": {
                "type": "string",
                "description": "The reader's commenter token (or the Commenter-Token header).",
            },
        },
    }
    return {
        "/api/v1/articles/{slug}/comments": {
            "post": {
                "summary": "Submit a comment",
                "parameters": [
                    _SLUG,
                    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": _STR},
                    {"name": "Commenter-Token", "in": "header", "required": False, "schema": _STR},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": submission},
                        "application/x-www-form-urlencoded": {"schema": submission},
                    },
                },
                "responses": {
                    "202": _json("Accepted", "Stored durably; awaiting moderation"),
                    "303": {
                        "description": "Form post: redirect to the article page, #comment-pending"
                    },
                    "400": _problem("Body is not parseable"),
                    "403": _problem("Comments closed"),
                    "404": _problem("Unknown article"),
                    "409": _problem("Same author, same content, same article"),
                    "413": _problem("Body over 64 KiB"),
                    "415": _problem("Unsupported content type"),
                    "422": _problem("Field errors (see `errors`)"),
                    "429": _problem("Rate limit or flood; see Retry-After"),
                    "503": _problem("Cannot be stored durably now; see Retry-After"),
                },
            },
            "get": {
                "summary": "Published comments, oldest first (or newest first)",
                "parameters": [
                    _SLUG,
                    _CURSOR,
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "default": 50},
                        "description": "Comments per page; more than 100 gives 100.",
                    },
                    {
                        "name": "order",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["oldest", "newest"],
                            "default": "oldest",
                        },
                        "description": "newest: the newest first, each next page older; a cursor"
                        " is taken back only in the order that wrote it.",
                    },
                ],
                "responses": {
                    "200": _json("CommentPage"),
                    "304": {"description": "Not modified"},
                    "404": _problem("Unknown article"),
                    "422": _problem(
                        "`limit` is not a whole number of at least 1, `order` is neither oldest"
                        " nor newest, or `cursor` is not valid"
                    ),
                },
            },
        },
        "/api/v1/articles/{slug}": {
            "get": {
                "summary": "An article",
                "parameters": [_SLUG],
                "responses": {"200": _json("Article"), "404": _problem("Unknown article")},
            },
        },
        "/api/v1/mail/unsubscribe/{token}": {
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": _STR}],
            "get": {
                "summary": "The unsubscribe page of a mail's link: a button, no change",
                "responses": {
                    code: {"description": what, "content": {"text/html": {"schema": _STR}}}
                    for code, what in (
                        ("200", "The page with the button"),
                        ("400", "Not a link Parley signed"),
                        ("410", "The link has expired"),
                    )
                },
            },
            "post": {
                "summary": "One-click unsubscribe (RFC 8058): no more mail to the address",
                "description": "What a mail's `List-Unsubscribe` link receives from a mail "
                "client (`List-Unsubscribe=One-Click`) or from the page's button. Stops all of "
                "Parley's mail to the address the link was signed for; idempotent.",
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"List-Unsubscribe": {"const": "One-Click"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Unsubscribed (also when it was already)",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["unsubscribed"],
                                    "properties": {"unsubscribed": {"const": True}},
                                }
                            }
                        },
                    },
                    "400": _problem("Not a link Parley signed"),
                    "410": _problem("The link has expired"),
                },
            },
        },
        "/api/v1/articles/{slug}/form-token": {
            "get": {
                "summary": "A signed form token",
                "parameters": [_SLUG],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"form_token": _STR}}
                            }
                        },
                    },
                    "404": _problem("Unknown article"),
                },
            },
        },
        "/api/v1/comments/{id}": {
            "get": {
                "summary": "Public status of a comment (pending or published)",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": _STR}],
                "responses": {"200": _json("CommentStatus"), "404": _problem("Unknown comment")},
            },
        },
        "/api/v1/comments/{id}/reports": {
            "post": {
                "summary": "A reader reports a published comment",
                "description": "One counted report per reader (their commenter token, else "
                "their IP) per comment. At PARLEY_REPORT_THRESHOLD distinct reports the "
                "comment is unpublished and held with the reason rule `reader_reports`.",
                "parameters": [
                    _ID,
                    {"name": "Commenter-Token", "in": "header", "required": False, "schema": _STR},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": report},
                        "application/x-www-form-urlencoded": {"schema": report},
                    },
                },
                "responses": {
                    "202": _json("ReportAnswer", "Counted"),
                    "200": _json("ReportAnswer", "This reader reported it before: nothing counted"),
                    "400": _problem("Body is not parseable"),
                    "404": _problem("Unknown or unpublished comment"),
                    "413": _problem("Body over 64 KiB"),
                    "415": _problem("Unsupported content type"),
                    "422": _problem("Field errors (see `errors`)"),
                    "429": _problem("Too many reports from this IP or reader; see Retry-After"),
                },
            },
        },
        "/api/v1/admin/articles/{slug}": {
            "put": {
                "summary": "Register or update an article",
                "security": [{"bearer": []}],
                "parameters": [_SLUG],
                "requestBody": _json_body(
                    ["title", "url"],
                    {
                        "title": {"type": "string", "maxLength": 500, "pattern": "\\S"},
                        "url": {"type": "string", "maxLength": 2048, "pattern": _HTTP_URL},
                        "comments_open": {"type": "boolean", "default": True},
                        "moderation": {
                            "enum": list(MODERATION_MODES),
                            "description": "auto (default) | premoderate: what the checks "
                            "would publish is held (reason premoderation) | closed: the same "
                            "as comments_open false. Both sent and disagreeing is a 422; "
                            "left out, an update keeps premoderate while comments are open.",
                        },
                        "summary": _STR,
                    },
                ),
                "responses": {
                    "200": _json("AdminArticle", "Updated"),
                    "201": _json("AdminArticle", "Created"),
                    "400": _problem("Body is not a JSON object"),
                    "401": _problem("No valid token"),
                    "422": _problem("Field errors"),
                },
            },
            "get": {
                "summary": "An article with its moderation mode",
                "security": [{"bearer": []}],
                "parameters": [_SLUG],
                "responses": {
                    "200": _json("AdminArticle"),
                    "401": _problem("No valid token"),
                    "404": _problem("Unknown article"),
                },
            },
        },
        "/api/v1/admin/articles": {
            "get": {
                "summary": "Articles newest first, with their moderation modes",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "moderation",
                        "in": "query",
                        "schema": {"enum": list(MODERATION_MODES)},
                    },
                    {"name": "q", "in": "query", "schema": _STR},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    },
                    _CURSOR,
                ],
                "responses": {
                    "200": _json("AdminArticlePage"),
                    "401": _problem("No valid token"),
                    "422": _problem("A mode, limit or cursor that cannot be used"),
                },
            },
        },
        "/api/v1/admin/comments": {
            "get": {
                "summary": "Moderators' list, newest first (hidden statuses only when asked)",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"enum": list(STATUSES)}},
                    {"name": "article", "in": "query", "schema": _STR},
                    {"name": "q", "in": "query", "schema": _STR, "description": "Text in it"},
                    {"name": "author", "in": "query", "schema": _STR},
                    {"name": "email", "in": "query", "schema": _STR},
                    {"name": "ip", "in": "query", "schema": _STR},
                    {
                        "name": "reported",
                        "in": "query",
                        "schema": {"enum": ["1", "0", "true", "false", "yes", "no"]},
                        "description": "1: only comments with readers' reports not cleared",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    },
                    _CURSOR,
                ],
                "responses": {
                    "200": _json("AdminCommentPage"),
                    "401": _problem("No valid token"),
                    "422": _problem("A filter, `limit` or `cursor` that cannot be used"),
                },
            },
        },
        "/api/v1/admin/comments/{id}": {
            "get": {
                "summary": "The whole record: reasons, Akismet's verdict, history",
                "security": [{"bearer": []}],
                "parameters": [_ID],
                "responses": {
                    "200": _json("AdminComment"),
                    "401": _problem("No valid token"),
                    "404": _problem("Unknown comment"),
                },
            },
        },
        "/api/v1/admin/comments/{id}/actions": {
            "post": {
                "summary": "Approve, mark as spam or reject; corrections go back to Akismet",
                "security": [{"bearer": []}],
                "parameters": [
                    _ID,
                    {
                        "name": "X-Parley-Actor",
                        "in": "header",
                        "schema": _STR,
                        "description": "Who acts, for the history (default `admin-api`)",
                    },
                ],
                "requestBody": _json_body(
                    ["action"],
                    {
                        "action": {"enum": list(MODERATOR_ACTIONS)},
                        "note": {"type": "string", "maxLength": 2000},
                    },
                ),
                "responses": {
                    "200": _json("AdminComment", "Done; the record as it is now"),
                    "400": _problem("Body is not a JSON object"),
                    "401": _problem("No valid token"),
                    "404": _problem("Unknown comment"),
                    "409": _problem("A move the state machine does not allow"),
                    "422": _problem("Field errors"),
                },
            },
        },
        "/api/v1/admin/rules": {
            "get": {
                "summary": "Every rule (the classifier too) with its mode and weight",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Rule"},
                                }
                            }
                        },
                    },
                    "401": _problem("No valid token"),
                },
            },
        },
        "/api/v1/admin/rules/{rule}": {
            "put": {
                "summary": "Set a rule on, on trial (shown, not counted) or off, and its weight",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "rule", "in": "path", "required": True, "schema": _STR},
                    {
                        "name": "X-Parley-Actor",
                        "in": "header",
                        "schema": _STR,
                        "description": "Who acts, for the activity log (default `admin-api`)",
                    },
                ],
                "requestBody": _json_body(
                    ["mode"],
                    {
                        "mode": {"enum": list(MODES)},
                        "weight": {
                            "type": ["number", "null"],
                            "minimum": WEIGHT_RANGE[0],
                            "maximum": WEIGHT_RANGE[1],
                            "description": "Left out: unchanged; null: the default weight.",
                        },
                    },
                ),
                "responses": {
                    "200": _json("Rule", "Set; the rule as it is now"),
                    "400": _problem("Body is not a JSON object"),
                    "401": _problem("No valid token"),
                    "404": _problem("Unknown rule"),
                    "422": _problem("Field errors"),
                },
            },
        },
        "/api/v1/admin/quality": {
            "get": {
                "summary": "Each rule's and the classifier's record against moderators' decisions",
                "security": [{"bearer": []}],
                "responses": {"200": _json("Quality"), "401": _problem("No valid token")},
            },
        },
        # Privacy (issue 26): one address's data, exported or erased (services/privacy_api.py).
        "/api/v1/admin/authors/{email}/export": {
            "get": {
                "summary": "Everything stored about one e-mail address (every status, private fields)",
                "security": [{"bearer": []}],
                "parameters": [_EMAIL],
                "responses": {
                    "200": {
                        "description": "Every list empty when nothing is stored",
                        "content": {"application/json": {"schema": _EXPORT}},
                    },
                    "401": _problem("No valid token"),
                    "422": _problem("An address nothing can be stored under"),
                },
            },
        },
        "/api/v1/admin/authors/{email}": {
            "delete": {
                "summary": "Erase what is stored about one e-mail address",
                "security": [{"bearer": []}],
                "parameters": [
                    _EMAIL,
                    {
                        "name": "published",
                        "in": "query",
                        "schema": {"enum": ["delete", "anonymise"], "default": "delete"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "What was erased (zeros when nothing was left)",
                        "content": {"application/json": {"schema": _ERASED}},
                    },
                    "401": _problem("No valid token"),
                    "422": _problem("A bad address or mode"),
                },
            },
        },
        "/healthz": {
            "get": {"summary": "Process alive", "responses": {"200": {"description": "OK"}}}
        },
        "/readyz": {
            "get": {
                "summary": "Database and Redis reachable",
                "responses": {"200": {"description": "Ready"}, "503": {"description": "Not ready"}},
            }
        },
    }


_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": ["string", "null"], "format": "date-time"}
_NUMBER = {"type": ["number", "null"]}
# docs/contract.md §4: the whole record of a comment, as moderators see it.
_ADMIN_COMMENT = {
    "type": "object",
    "properties": {
        "id": _STR,
        "article": _STR,
        "status": {"enum": list(STATUSES)},
        "author_name": _STR,
        "author_email": _STR,
        "author_url": _NSTR,
        "content": _STR,
        "parent_id": _NSTR,
        "user_ip": _STR,
        "user_agent": _NSTR,
        "referrer": _NSTR,
        "permalink": _STR,
        "created_at": _TIME,
        "decided_at": _NTIME,
        "published_at": _NTIME,
        "score": _NUMBER,
        "decision": _NSTR,
        "reasons": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "rule": _STR,
                    "score": {"type": "number"},
                    "detail": _STR,
                    "trial": {
                        "type": "boolean",
                        "description": "On trial: shown, not counted toward the decision.",
                    },
                    "entry": {
                        "type": "object",
                        "description": "The list entry on trial, when the trial is one.",
                        "properties": {"kind": _STR, "value": _STR},
                    },
                },
            },
        },
        "akismet": {
            "type": "object",
            "properties": {
                "verdict": {"enum": ["ham", "spam", "discard", "error", "skipped", None]}
            },
        },
        "form_token": {
            "type": "object",
            "properties": {"status": _STR, "age_seconds": _NUMBER},
        },
        "honeypot": {"type": "boolean"},
        "reports": {
            "type": "object",
            "description": "Readers' reports: open ones by reason with their notes, and "
            "how many a moderator cleared",
            "properties": {
                "open": {"type": "integer"},
                "cleared": {"type": "integer"},
                "reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
                "notes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"reason": _STR, "note": _STR, "at": _TIME},
                    },
                },
            },
        },
        "attempts": {"type": "integer"},
        "request_id": _NSTR,
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": _TIME,
                    "actor": _STR,
                    "action": _STR,
                    "from": _NSTR,
                    "to": _NSTR,
                    "note": _NSTR,
                },
            },
        },
    },
}


_COUNT = {"type": "integer", "minimum": 0}
# docs/contract.md §4 and shared/moderation/quality.py: rules measured against moderators.
_QUALITY = {
    "type": "object",
    "required": ["rules", "classifier"],
    "properties": {
        "labelled": {
            "type": "object",
            "properties": {"ham": _COUNT, "spam": _COUNT},
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "fired", "agreed", "overridden", "precision"],
                "properties": {
                    "rule": _STR,
                    "mode": {"enum": list(MODES)},
                    "trial": {"type": "boolean"},
                    "entry": {"type": "object", "properties": {"kind": _STR, "value": _STR}},
                    "fired": _COUNT,
                    "agreed": _COUNT,
                    "overridden": _COUNT,
                    "precision": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                    "would_flip": _COUNT,
                    "flips_agreed": _COUNT,
                    "unreviewed": {
                        "type": "object",
                        "properties": {"fired": _COUNT, "would_flip": _COUNT},
                    },
                },
            },
        },
        "classifier": {
            "type": "object",
            "required": ["version", "trained_at", "examples"],
            "properties": {
                "version": {"type": ["integer", "null"]},
                "trained_at": _NTIME,
                "examples": {
                    "type": "object",
                    "properties": {"ham": _COUNT, "spam": _COUNT},
                },
                "metrics": {"type": "object"},
                "learning_curve": {"type": "array"},
            },
        },
    },
}


ADMIN_PREFIX = "/api/v1/admin/"


def spec(server_url: str, admin: bool = True) -> dict:
    """The OpenAPI document, with ``server_url`` as its server; without the admin API's
    paths (docs/contract.md §4) when ``admin`` is false, as the api serves it unless
    PARLEY_ADMIN_API_ON_PUBLIC=1 (those paths are a 404 there)."""
    paths = {**_paths(), **openapi_webhooks.paths()}
    if not admin:
        paths = {path: ops for path, ops in paths.items() if not path.startswith(ADMIN_PREFIX)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Parley comment API", "version": "1"},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                **openapi_webhooks.schemas(),
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": _STR,
                        "title": _STR,
                        "status": {"type": "integer"},
                        "detail": _STR,
                        "errors": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": _STR},
                        },
                    },
                },
                "Accepted": {
                    "type": "object",
                    "properties": {
                        "id": _STR,
                        "status": {"const": "pending"},
                        "status_url": _STR,
                        "commenter_token": _STR,
                    },
                },
                "Article": {
                    "type": "object",
                    "properties": {
                        "slug": _STR,
                        "title": _STR,
                        "url": _STR,
                        "comments_open": {"type": "boolean"},
                        "comment_count": {"type": "integer"},
                        "notify": {
                            "type": "boolean",
                            "description": "Parley sends mail (PARLEY_SMTP_URL): a "
                            "commenter may ask for it with `notify`.",
                        },
                    },
                },
                "AdminArticle": {
                    "type": "object",
                    "properties": {
                        "slug": _STR,
                        "title": _STR,
                        "url": _STR,
                        "comments_open": {"type": "boolean"},
                        "comment_count": {"type": "integer"},
                        "moderation": {"enum": list(MODERATION_MODES)},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"},
                    },
                },
                "AdminArticlePage": {
                    "type": "object",
                    "properties": {
                        "articles": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/AdminArticle"},
                        },
                        "next_cursor": _NSTR,
                    },
                },
                "PublishedComment": {
                    "type": "object",
                    "properties": {
                        "id": _STR,
                        "parent_id": _NSTR,
                        "author_name": _STR,
                        "author_url": _NSTR,
                        "content": _STR,
                        "published_at": {"type": "string", "format": "date-time"},
                    },
                },
                "CommentPage": {
                    "type": "object",
                    "properties": {
                        "article": _STR,
                        "comments": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/PublishedComment"},
                        },
                        "next_cursor": _NSTR,
                    },
                },
                "AdminComment": _ADMIN_COMMENT,
                "ReportAnswer": {
                    "type": "object",
                    "properties": {"comment_id": _STR, "counted": {"type": "boolean"}},
                },
                "AdminCommentPage": {
                    "type": "object",
                    "properties": {
                        "comments": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/AdminComment"},
                        },
                        "next_cursor": _NSTR,
                    },
                },
                "Rule": {
                    "type": "object",
                    "required": ["rule", "mode", "weight"],
                    "properties": {
                        "rule": _STR,
                        "mode": {"enum": list(MODES)},
                        "weight": {"type": "number"},
                    },
                },
                "Quality": _QUALITY,
                "CommentStatus": {
                    "type": "object",
                    "properties": {
                        "id": _STR,
                        "article": _STR,
                        "status": {"enum": ["pending", "published"]},
                    },
                },
            },
        },
    }
