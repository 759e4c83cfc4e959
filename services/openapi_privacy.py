"""The privacy operations of the admin API (docs/contract.md §4: one address's export and
erasure) in the OpenAPI description, merged by :mod:`services.openapi_admin`."""

from __future__ import annotations

from services.openapi_parts import STR as _STR
from services.openapi_parts import problem as _problem

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


def paths() -> dict:
    """Export and erasure of everything stored about one e-mail address."""
    return {
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
    }
