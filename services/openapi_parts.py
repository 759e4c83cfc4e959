"""The building blocks that the pieces of the OpenAPI description share
(:mod:`services.openapi`, :mod:`services.openapi_admin`, :mod:`services.openapi_webhooks`)."""

from __future__ import annotations

PROBLEM = {"$ref": "#/components/schemas/Problem"}
STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": STR}
ID = {"name": "id", "in": "path", "required": True, "schema": STR}
CURSOR = {
    "name": "cursor",
    "in": "query",
    "schema": STR,
    "description": "A previous page's `next_cursor`; anything else is a 422.",
}
# The validation rules of shared/validation.py, as patterns (ECMA 262), so that a client
# can check a submission before sending it: some non-space text, and no control
# characters (a comment's text may also hold newlines and tabs).
NO_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
TEXT_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
HTTP_URL = f"^https?://[^{NO_CONTROL}\\s/?#]+([/?#][^{NO_CONTROL}\\s]*)?$"


def problem(description: str) -> dict:
    """A response of ``application/problem+json``."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM}},
    }


def json_ref(schema_ref: str, description: str = "OK") -> dict:
    """A JSON response of the named schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def json_body(required: list[str], properties: dict) -> dict:
    """A required JSON object request body."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}
