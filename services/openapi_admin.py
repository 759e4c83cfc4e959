"""The admin JSON API (docs/contract.md §4) in the OpenAPI description: its paths and
schemas, merged by :mod:`services.openapi` (the webhooks' are in
:mod:`services.openapi_webhooks`)."""

from __future__ import annotations

from services import openapi_privacy
from services.openapi_parts import CURSOR as _CURSOR
from services.openapi_parts import HTTP_URL as _HTTP_URL
from services.openapi_parts import ID as _ID
from services.openapi_parts import NSTR as _NSTR
from services.openapi_parts import NTIME as _NTIME
from services.openapi_parts import SLUG as _SLUG
from services.openapi_parts import STR as _STR
from services.openapi_parts import TIME as _TIME
from services.openapi_parts import json_body as _json_body
from services.openapi_parts import json_ref as _json
from services.openapi_parts import problem as _problem
from shared.articles import MODERATION_MODES
from shared.moderation.modes import MODES, WEIGHT_RANGE
from shared.moderation.states import MODERATOR_ACTIONS, STATUSES

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


def paths() -> dict:
    """The admin API's operations, but the webhooks'."""
    return {
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
        **openapi_privacy.paths(),
    }


def schemas() -> dict:
    """The admin API's schemas, but the webhooks'."""
    return {
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
        "AdminComment": _ADMIN_COMMENT,
        "Quality": _QUALITY,
    }
