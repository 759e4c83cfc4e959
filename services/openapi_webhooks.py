"""The webhook endpoints of the admin API (docs/contract.md §4) in the OpenAPI description
(merged by :mod:`services.openapi`)."""

from __future__ import annotations

from services.openapi_parts import ID as _ID
from services.openapi_parts import NSTR as _NSTR
from services.openapi_parts import NTIME as _NTIME
from services.openapi_parts import STR as _STR
from services.openapi_parts import TIME as _TIME
from services.openapi_parts import json_body as _body
from services.openapi_parts import json_ref as _json
from services.openapi_parts import problem as _problem
from shared.webhooks.endpoints import EVENT_TYPES, MAX_PAGE, SECRET_MAX, SECRET_MIN

_ACTOR = {
    "name": "X-Parley-Actor",
    "in": "header",
    "schema": _STR,
    "description": "Who acts, for the activity log (default `admin-api`)",
}


_UNAUTHORISED = _problem("No valid token")
_UNKNOWN = _problem("Unknown webhook endpoint")


def paths() -> dict:
    return {
        "/api/v1/admin/webhooks": {
            "post": {
                "summary": "Register a webhook endpoint; its secret is shown only in this answer",
                "security": [{"bearer": []}],
                "parameters": [_ACTOR],
                "requestBody": _body(
                    ["url", "events"],
                    {
                        "url": {
                            "type": "string",
                            "maxLength": 2048,
                            "description": "http(s); not a loopback, link-local or private "
                            "address unless PARLEY_WEBHOOK_ALLOW_PRIVATE=1",
                        },
                        "events": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"enum": list(EVENT_TYPES)},
                        },
                        "secret": {
                            "type": "string",
                            "minLength": SECRET_MIN,
                            "maxLength": SECRET_MAX,
                            "description": "Left out: one is generated (whsec_…)",
                        },
                    },
                ),
                "responses": {
                    "201": _json("WebhookCreated", "Registered"),
                    "400": _problem("Body is not a JSON object"),
                    "401": _UNAUTHORISED,
                    "422": _problem("Field errors (a refused address included)"),
                },
            },
            "get": {
                "summary": "Every webhook endpoint, enabled or why not (never a secret)",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "webhooks": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Webhook"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "401": _UNAUTHORISED,
                },
            },
        },
        "/api/v1/admin/webhooks/{id}": {
            "delete": {
                "summary": "Delete an endpoint and its deliveries",
                "security": [{"bearer": []}],
                "parameters": [_ID, _ACTOR],
                "responses": {
                    "204": {"description": "Deleted"},
                    "401": _UNAUTHORISED,
                    "404": _UNKNOWN,
                },
            },
        },
        "/api/v1/admin/webhooks/{id}/enable": {
            "post": {
                "summary": "Enable an endpoint disabled for failing; pending deliveries resume",
                "security": [{"bearer": []}],
                "parameters": [_ID, _ACTOR],
                "responses": {"200": _json("Webhook"), "401": _UNAUTHORISED, "404": _UNKNOWN},
            },
        },
        "/api/v1/admin/webhooks/{id}/deliveries": {
            "get": {
                "summary": "The endpoint's deliveries, newest first",
                "security": [{"bearer": []}],
                "parameters": [
                    _ID,
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                    },
                    {"name": "cursor", "in": "query", "schema": _STR},
                ],
                "responses": {
                    "200": _json("WebhookDeliveries"),
                    "401": _UNAUTHORISED,
                    "404": _UNKNOWN,
                    "422": _problem("A limit or cursor that cannot be used"),
                },
            },
        },
        "/api/v1/admin/webhooks/{id}/replay": {
            "post": {
                "summary": "Send again the events of since <= at < until (default now)",
                "security": [{"bearer": []}],
                "parameters": [_ID, _ACTOR],
                "requestBody": _body(["since"], {"since": _TIME, "until": _TIME}),
                "responses": {
                    "202": {
                        "description": "Queued: how many deliveries",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"deliveries": {"type": "integer"}},
                                }
                            }
                        },
                    },
                    "400": _problem("Body is not a JSON object"),
                    "401": _UNAUTHORISED,
                    "404": _UNKNOWN,
                    "422": _problem("Field errors"),
                },
            },
        },
    }


_WEBHOOK = {
    "id": _STR,
    "url": _STR,
    "events": {"type": "array", "items": {"enum": list(EVENT_TYPES)}},
    "created_at": _TIME,
    "created_by": _STR,
    "enabled": {"type": "boolean"},
    "disabled_at": _NTIME,
    "disabled_reason": _NSTR,
    "consecutive_failures": {"type": "integer"},
    "last_delivered_at": _NTIME,
}


def schemas() -> dict:
    return {
        "Webhook": {"type": "object", "properties": _WEBHOOK},
        "WebhookCreated": {"type": "object", "properties": {**_WEBHOOK, "secret": _STR}},
        "WebhookDeliveries": {
            "type": "object",
            "properties": {
                "deliveries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": _STR,
                            "event_id": _STR,
                            "type": {"enum": list(EVENT_TYPES)},
                            "comment_id": _STR,
                            "article": _STR,
                            "event_at": _TIME,
                            "replay": {"type": "boolean"},
                            "status": {"enum": ["pending", "delivered", "failed"]},
                            "attempts": {"type": "integer"},
                            "next_attempt_at": _NTIME,
                            "last_status_code": {"type": ["integer", "null"]},
                            "last_response": _NSTR,
                            "last_error": _NSTR,
                            "created_at": _TIME,
                            "finished_at": _NTIME,
                        },
                    },
                },
                "next_cursor": _NSTR,
            },
        },
    }
