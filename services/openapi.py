"""OpenAPI 3.1 description of the public and admin JSON APIs."""

from __future__ import annotations

from functools import cache

from services import openapi_admin, openapi_webhooks
from services.openapi_parts import CURSOR as _CURSOR
from services.openapi_parts import HTTP_URL as _HTTP_URL
from services.openapi_parts import ID as _ID
from services.openapi_parts import NO_CONTROL as _NO_CONTROL
from services.openapi_parts import NSTR as _NSTR
from services.openapi_parts import SLUG as _SLUG
from services.openapi_parts import STR as _STR
from services.openapi_parts import TEXT_CONTROL as _TEXT_CONTROL
from services.openapi_parts import json_ref as _json
from services.openapi_parts import problem as _problem
from shared.validation import MAX_REPORT_NOTE, REPORT_REASONS


def _line(control: str) -> str:
    return f"^[^{control}]*[^{control}\\s][^{control}]*$"


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
        **openapi_admin.paths(),
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
                **openapi_admin.schemas(),
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
                "ReportAnswer": {
                    "type": "object",
                    "properties": {"comment_id": _STR, "counted": {"type": "boolean"}},
                },
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
