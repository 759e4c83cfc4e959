"""Moderation lists and tunable settings as admins edit them in the dashboard.

Every change is written with its audit record in the caller's unit of work. The workers'
:class:`~shared.moderation.context.PolicyCache` rereads lists and overrides every few
seconds, so the next check uses a change without a restart; the dashboard also
invalidates its own cache after committing. Each entry has a mode (on, trial or off:
shared.moderation.modes).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts import audit
from shared.config import Settings
from shared.models import ListEntry, SettingOverride, utcnow
from shared.moderation.context import TUNABLE, effective
from shared.moderation.modes import MODES, valid_mode
from shared.moderation.rules import LIST_FIELDS
from shared.moderation.senses import CONTEXT

# Shown in this order; kinds of LIST_FIELDS not named here come after, by name.
LIST_LABELS: dict[str, tuple[str, str]] = {
    "block_word": (
        "Block words",
        "A comment with one of these words (or phrases) is spam, without asking Akismet: "
        "list only words that have no innocent use.",
    ),
    "hold_word": (
        "Hold words",
        "A comment with one of these words is held for review ("
        + "; ".join(
            f'"{term}" only next to words like {", ".join(words[:3])} or {words[3]}'
            for term, words in CONTEXT.items()
        )
        + ").",
    ),
    "blocked_email": ("Blocked e-mails", "Comments from these addresses are spam."),
    "blocked_ip": ("Blocked IPs", "Addresses or networks (CIDR, e.g. 203.0.113.0/24)."),
    "blocked_domain": ("Blocked domains", "In the e-mail, the website or a link; subdomains too."),
    "trusted_author": (
        "Trusted authors",
        "E-mail addresses whose comments get the benefit of the doubt.",
    ),
    "shortener": ("URL shorteners", "Links through these hosts are suspicious."),
    "disposable_domain": ("Throw-away e-mail domains", "Added to the built-in list."),
    "allowed_domain": (
        "Allowed link domains",
        "Links to these domains (subdomains too) do not count toward the links limit, "
        "like links to this site and to well-known references (Wikipedia, GitHub, …).",
    ),
}

TUNABLE_LABELS: dict[str, tuple[str, str]] = {
    "hold_threshold": ("Hold threshold", "Score at which a comment is held for review."),
    "spam_threshold": ("Spam threshold", "Score at which a comment is spam."),
    "max_links": ("Max links", "A comment with at least this many links is held."),
    "min_form_seconds": (
        "Min form seconds",
        "Posting sooner after loading the form is suspicious.",
    ),
}
_RANGES = {
    "hold_threshold": (0.1, 100.0),
    "spam_threshold": (0.1, 100.0),
    "max_links": (1, 1000),
    "min_form_seconds": (0.0, 3600.0),
}


class ChangeError(ValueError):
    """An edit that cannot be saved; the message says why, for the admin."""


def list_kinds() -> list[str]:
    return [k for k in LIST_LABELS if k in LIST_FIELDS] + sorted(
        set(LIST_FIELDS) - set(LIST_LABELS)
    )


def list_entries(session: Session) -> dict[str, list[ListEntry]]:
    """Every list's entries, alphabetically, by kind (empty lists included)."""
    entries: dict[str, list[ListEntry]] = {kind: [] for kind in list_kinds()}
    for entry in session.scalars(select(ListEntry).order_by(ListEntry.kind, ListEntry.value)):
        if entry.kind in entries:
            entries[entry.kind].append(entry)
    return entries


def clean_list_value(kind: str, value: str) -> str:
    """The value as stored, or :class:`ChangeError`; the rules case-fold, so we do too."""
    if kind not in LIST_FIELDS:
        raise ChangeError(f"unknown list {kind!r}")
    value = " ".join((value or "").split()).casefold()
    if not value:
        raise ChangeError("the value is empty")
    if len(value) > 254:
        raise ChangeError("the value is longer than 254 characters")
    if kind == "blocked_ip":
        try:
            value = str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ChangeError(f"{value!r} is not an IP address or network") from None
        if value.endswith(("/32", "/128")):
            value = value.rsplit("/", 1)[0]
    elif kind in ("blocked_email", "trusted_author"):
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise ChangeError(f"{value!r} is not an e-mail address")
    elif kind in ("blocked_domain", "shortener", "disposable_domain", "allowed_domain"):
        value = value.removeprefix("http://").removeprefix("https://").strip("/").lstrip(".")
        if "." not in value or " " in value or "/" in value or "@" in value:
            raise ChangeError(f"{value!r} is not a domain name like example.com")
    return value


def add_list_entry(session: Session, kind: str, value: str, actor: str) -> ListEntry:
    """Add one entry (audited). Raises :class:`ChangeError` for a bad or duplicate value."""
    value = clean_list_value(kind, value)
    exists = session.scalar(
        select(ListEntry).where(ListEntry.kind == kind, ListEntry.value == value)
    )
    if exists is not None:
        raise ChangeError(f"{value!r} is already on the list")
    entry = ListEntry(kind=kind, value=value, created_at=utcnow(), created_by=actor)
    session.add(entry)
    audit(session, actor, "list.add", kind, value=value)
    return entry


def remove_list_entry(session: Session, entry_id: int, actor: str) -> ListEntry:
    """Remove one entry (audited). Raises :class:`ChangeError` if it is gone already."""
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise ChangeError("that entry was already removed")
    session.delete(entry)
    audit(session, actor, "list.remove", entry.kind, value=entry.value)
    return entry


def set_entry_mode(session: Session, entry_id: int, mode: str, actor: str) -> ListEntry:
    """Set one entry on, on trial or off (audited as ``list.mode``). Raises
    :class:`ChangeError` for an unknown mode or an entry that is gone."""
    if not valid_mode(mode):
        raise ChangeError(f"the mode must be one of {', '.join(MODES)}")
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise ChangeError("that entry was removed")
    if entry.mode != mode:
        audit(session, actor, "list.mode", entry.kind, value=entry.value, old=entry.mode, new=mode)
        entry.mode = mode
    return entry


@dataclass(frozen=True)
class Tunable:
    key: str
    label: str
    help: str
    value: float
    default: float
    override: SettingOverride | None
    kind: str  # "int" | "float"


def tunables(session: Session, settings: Settings) -> list[Tunable]:
    """The tunable settings in force, with the environment default and who changed them."""
    overrides = {o.key: o for o in session.scalars(select(SettingOverride))}
    values = effective(settings, {k: o.value for k, o in overrides.items()})
    return [
        Tunable(
            key,
            *TUNABLE_LABELS.get(key, (key, "")),
            values[key],
            getattr(settings, key),
            overrides.get(key),
            TUNABLE[key].__name__,
        )
        for key in TUNABLE
    ]


def parse_tunable(key: str, raw: str):
    """The typed value of one setting, or :class:`ChangeError` naming the allowed range."""
    if key not in TUNABLE:
        raise ChangeError(f"unknown setting {key!r}")
    label = TUNABLE_LABELS.get(key, (key,))[0]
    kind = TUNABLE[key]
    try:
        value = kind(str(raw).strip())
    except ValueError:
        raise ChangeError(f"{label} must be a {'whole ' if kind is int else ''}number") from None
    low, high = _RANGES.get(key, (-math.inf, math.inf))
    if not (low <= value <= high) or (isinstance(value, float) and not math.isfinite(value)):
        raise ChangeError(f"{label} must be between {low:g} and {high:g}")
    return value


def set_tunables(
    session: Session, settings: Settings, raw: dict[str, str], actor: str
) -> list[str]:
    """Save changed settings (audited) and return the keys changed.

    A value equal to the environment default removes the override, so the environment
    governs again. The hold threshold must stay below the spam threshold.
    """
    current = {t.key: t for t in tunables(session, settings)}
    new = {key: parse_tunable(key, value) for key, value in raw.items() if key in TUNABLE}
    merged = {key: new.get(key, current[key].value) for key in TUNABLE}
    if merged["hold_threshold"] >= merged["spam_threshold"]:
        raise ChangeError("the hold threshold must be lower than the spam threshold")
    changed = []
    for key, value in new.items():
        old = current[key]
        if value == old.value:
            continue
        if value == old.default:
            if old.override is not None:
                session.delete(old.override)
        elif old.override is not None:
            old.override.value, old.override.updated_at, old.override.updated_by = (
                str(value),
                utcnow(),
                actor,
            )
        else:
            session.add(
                SettingOverride(key=key, value=str(value), updated_at=utcnow(), updated_by=actor)
            )
        audit(session, actor, "setting.set", key, old=old.value, new=value, default=old.default)
        changed.append(key)
    return changed
