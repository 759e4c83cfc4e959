"""Validation of a submitted comment (docs/contract.md §3), independent of HTTP.

Returns either a clean :class:`CommentInput` or a mapping of field name to messages, which
the API turns into a 422 problem document.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from shared.textnorm import nfc

# email-validator's checks of the part after the @ (IDNA, UTS-46 remapping, a regular
# expression per character) are most of its cost: 14 of 22 µs for
# "someone@example.org", about 5 % of the intake's CPU. They are a pure function of the
# domain, and the domains readers write from are few (the webmail providers, a few
# companies), so they are remembered. The library calls them by this module-level name;
# tests/unit/shared/test_validation.py fails if a new version stops doing so, or if a cached
# answer differs from the library's own. A domain it refuses raises, and is not remembered.
_EMAIL_MODULE = importlib.import_module("email_validator.validate_email")
_check_domain = functools.lru_cache(maxsize=4096)(_EMAIL_MODULE.validate_email_domain_name)


def _remembered_domain(
    domain: str, test_environment: bool = False, globally_deliverable: bool = True
):
    # A copy: the caller gets a dict of its own, as from the library.
    return dict(_check_domain(domain, test_environment, globally_deliverable))


_EMAIL_MODULE.validate_email_domain_name = _remembered_domain

ALLOWED_CONTROL = frozenset({"\n", "\t"})
LIMITS = {
    "author_name": 100,
    "author_email": 254,
    "author_url": 2048,
    "content": 10_000,
    "article_url": 2048,
    "article_title": 500,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentInput:
    """A submission that passed every field rule. A plain record: the rules above have
    checked every field, and a pydantic model would check each one's type again on every
    submission (about 1 % of a request's time in the intake profile)."""

    author_name: str
    author_email: str
    author_url: str | None = None
    content: str
    parent_id: str | None = None
    website: str = ""
    form_token: str | None = None
    # Who the author is (shared.commenter): the reader's key, and the host site's word on
    # the address. Neither is checked here; a bad one is ignored, not refused.
    commenter_token: str | None = None
    author_token: str | None = None
    # The widget's word on the page it sits on (docs/contract.md §3): used only to register
    # an unknown article from its verified page (shared.sites), never trusted as such.
    article_url: str | None = None
    article_title: str | None = None

    # The commenter asks for mail about replies and publication (docs/contract.md §3).
    notify: bool = False

    @property
    def honeypot(self) -> bool:
        return bool(self.website.strip())


# Unicode's control characters (general category Cc): U+0000-U+001F and U+007F-U+009F.
# One regular expression scans a long comment in C rather than a character at a time.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _control_chars(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    return sorted({f"U+{ord(ch):04X}" for ch in _CONTROL.findall(text) if ch not in allowed})


def _text(value: str, field: str, errors: dict[str, list[str]], *, multiline: bool) -> str:
    value = nfc(value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not value:
        errors.setdefault(field, []).append("is required")
        return value
    if len(value) > LIMITS[field]:
        errors.setdefault(field, []).append(
            f"must be at most {LIMITS[field]:,} characters (got {len(value):,})"
        )
    # Newline and tab are fine in the text of a comment, not in a name.
    bad = _control_chars(value, ALLOWED_CONTROL if multiline else frozenset())
    if bad:
        errors.setdefault(field, []).append("contains control characters: " + ", ".join(bad))
    return value


def is_http_url(value: str) -> bool:
    """Whether ``value`` parses as an http(s) URL with a host (urlsplit lowercases the
    scheme; a URL it cannot split, such as ``http://[``, is not one)."""
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _url(value: str, errors: dict[str, list[str]], field: str = "author_url") -> str | None:
    value = value.strip()
    if not value:
        return None
    if len(value) > LIMITS[field]:
        errors.setdefault(field, []).append(f"must be at most {LIMITS[field]:,} characters")
        return None
    if not is_http_url(value) or _control_chars(value) or any(ch.isspace() for ch in value):
        errors.setdefault(field, []).append("must be an http:// or https:// URL")
        return None
    return value


def _title(value: str, errors: dict[str, list[str]]) -> str | None:
    """An optional one-line title (``article_title``): trimmed, NFC, no control characters."""
    value = nfc(value).strip()
    if not value:
        return None
    if len(value) > LIMITS["article_title"]:
        errors.setdefault("article_title", []).append(
            f"must be at most {LIMITS['article_title']:,} characters"
        )
    if bad := _control_chars(value):
        errors.setdefault("article_title", []).append(
            "contains control characters: " + ", ".join(bad)
        )
    return value


# ``notify``: a JSON boolean, or what an HTML checkbox sends (its value when ticked,
# nothing when not); "false"/"off"/"0" for a form that sends an explicit no.
_NOTIFY_WORDS = {"true": True, "on": True, "1": True, "yes": True, "": False}
_NOTIFY_WORDS |= {"false": False, "off": False, "0": False, "no": False}


def _notify(value: object, errors: dict[str, list[str]]) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _NOTIFY_WORDS:
        return _NOTIFY_WORDS[value.strip().lower()]
    errors["notify"] = ["must be true or false"]
    return False


def validate_comment(
    data: Mapping[str, object],
) -> tuple[CommentInput | None, dict[str, list[str]]]:
    """Check every field of a submission; return ``(input, {})`` or ``(None, errors)``."""
    errors: dict[str, list[str]] = {}
    strings: dict[str, str] = {}
    for name in (
        "author_name",
        "author_email",
        "author_url",
        "content",
        "parent_id",
        "website",
        "form_token",
        "commenter_token",
        "author_token",
        "article_url",
        "article_title",
    ):
        value = data.get(name)
        if value is None:
            strings[name] = ""
        elif isinstance(value, str):
            strings[name] = value
        else:
            errors.setdefault(name, []).append("must be a string")
            strings[name] = ""

    name = (
        _text(strings["author_name"], "author_name", errors, multiline=False)
        if "author_name" not in errors
        else ""
    )
    content = (
        _text(strings["content"], "content", errors, multiline=True)
        if "content" not in errors
        else ""
    )

    email = strings["author_email"].strip()
    if "author_email" not in errors:
        if not email:
            errors["author_email"] = ["is required"]
        elif len(email) > LIMITS["author_email"]:
            errors["author_email"] = [f"must be at most {LIMITS['author_email']} characters"]
        else:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                errors["author_email"] = [f"is not a valid e-mail address: {exc}"]

    url = _url(strings["author_url"], errors) if "author_url" not in errors else None
    article_url = (
        _url(strings["article_url"], errors, "article_url") if "article_url" not in errors else None
    )
    article_title = (
        _title(strings["article_title"], errors) if "article_title" not in errors else None
    )
    notify = _notify(data.get("notify"), errors)
    parent_id = strings["parent_id"].strip() or None
    if parent_id is not None and (len(parent_id) > 32 or not parent_id.isalnum()):
        errors.setdefault("parent_id", []).append("is not a comment id")

    if errors:
        return None, errors
    return (
        CommentInput(
            author_name=name,
            author_email=email,
            author_url=url,
            content=content,
            parent_id=parent_id,
            website=strings["website"],
            form_token=strings["form_token"].strip() or None,
            commenter_token=strings["commenter_token"].strip() or None,
            author_token=strings["author_token"].strip() or None,
            notify=notify,
            article_url=article_url,
            article_title=article_title,
        ),
        {},
    )


# --- reader reports (docs/contract.md §3, POST /api/v1/comments/{id}/reports) ----------

REPORT_REASONS = ("spam", "abuse", "off-topic", "other")
MAX_REPORT_NOTE = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportInput:
    """A reader's report that passed the rules: a known reason, an optional note."""

    reason: str
    note: str | None = None
    # Who reports (shared.commenter), when the reader sends it in the body; not checked here.
    commenter_token: str | None = None


def validate_report(
    data: Mapping[str, object],
) -> tuple[ReportInput | None, dict[str, list[str]]]:
    """Check a report's fields; return ``(input, {})`` or ``(None, errors)``. The note is
    trimmed and NFC-normalised as a comment's text is, and holds at most
    :data:`MAX_REPORT_NOTE` characters and no control characters but newline and tab."""
    errors: dict[str, list[str]] = {}
    reason = data.get("reason")
    if not isinstance(reason, str) or reason.strip() not in REPORT_REASONS:
        errors["reason"] = [f"must be one of {', '.join(REPORT_REASONS)}"]
    raw_note, note = data.get("note"), None
    if raw_note is not None and not isinstance(raw_note, str):
        errors["note"] = ["must be a string"]
    elif raw_note:
        note = nfc(raw_note.replace("\r\n", "\n").replace("\r", "\n")).strip() or None
        if note and len(note) > MAX_REPORT_NOTE:
            errors.setdefault("note", []).append(
                f"must be at most {MAX_REPORT_NOTE:,} characters (got {len(note):,})"
            )
        if note and (bad := _control_chars(note, ALLOWED_CONTROL)):
            errors.setdefault("note", []).append("contains control characters: " + ", ".join(bad))
    token = data.get("commenter_token")
    if token is not None and not isinstance(token, str):
        errors["commenter_token"] = ["must be a string"]
    if errors:
        return None, errors
    return (
        ReportInput(
            reason=str(reason).strip(),
            note=note,
            commenter_token=(token.strip() or None) if isinstance(token, str) else None,
        ),
        {},
    )
