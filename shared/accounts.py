"""Moderators' accounts, their dashboard sessions and the dashboard's audit log.

Passwords are stored as argon2id hashes (argon2-cffi's defaults, rehashed on login when the
defaults move on). Nothing here knows about HTTP: the dashboard, the CLI and the tests call
these functions with a session they own.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.models import AuditLog, Moderator, utcnow
from shared.models.moderation_store import DashboardSession

ROLES = ("admin", "moderator")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 would hash more, but nobody types it and it costs CPU
SESSION_LIFETIME = timedelta(hours=12)  # from sign-in, however much the session is used

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verified when the e-mail is unknown, so that a wrong e-mail takes as long as a wrong
    # password and the login form does not reveal who has an account. Made on first use:
    # few processes ever log anyone in.
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account request that cannot be carried out; the message is for the person asking."""


def normalise_email(email: str) -> str:
    """E-mail as stored and looked up: trimmed and lower-cased, so logins are case-blind."""
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    """The normalised address, or :class:`AccountError` for something that is not one."""
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or not domain or len(email) > 254 or any(ch.isspace() for ch in email):
        raise AccountError("e-mail must be an address like name@example.org")
    return email


def check_password(password: str) -> str:
    """Length is what makes a password strong; no composition rules (NIST SP 800-63B)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password must be at most {MAX_PASSWORD} characters long")
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of: {', '.join(ROLES)}")
    return role


def generate_password() -> str:
    """A random password for the demo admin or a reset: 128 bits, URL-safe characters."""
    return secrets.token_urlsafe(16)


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def find_moderator(session: Session, email: str) -> Moderator | None:
    return session.scalar(select(Moderator).where(Moderator.email == normalise_email(email)))


def create_moderator(
    session: Session, email: str, password: str, role: str = "moderator"
) -> Moderator:
    """Add an account. Raises :class:`AccountError` for a bad field or a taken e-mail."""
    email = check_email(email)
    role = check_role(role)
    if find_moderator(session, email) is not None:
        raise AccountError(f"a moderator with e-mail {email} already exists")
    moderator = Moderator(
        email=email,
        password_hash=hash_password(password),
        role=role,
        created_at=utcnow(),
        disabled=False,
    )
    session.add(moderator)
    session.flush()
    return moderator


def register_moderator(
    session: Session, email: str, password: str, role: str, actor: str, **detail
) -> Moderator:
    """Add an account and audit who added it: what the dashboard, the CLI and the demo set-up
    do (``detail`` goes into the audit record beside the role)."""
    moderator = create_moderator(session, email, password, role)
    audit(session, actor, "moderator.create", moderator.email, role=moderator.role, **detail)
    return moderator


def authenticate(session: Session, email: str, password: str) -> Moderator | None:
    """The account if ``password`` is right and the account is enabled, else None.

    Takes about the same time whether or not the e-mail exists. Records the login time and
    upgrades the hash if argon2's parameters changed since it was made.
    """
    moderator = find_moderator(session, email) if email else None
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return None
    try:
        _hasher.verify(moderator.password_hash if moderator else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if moderator is None or moderator.disabled:
        return None
    if _hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = _hasher.hash(password)
    moderator.last_login_at = utcnow()
    return moderator


def set_password(session: Session, moderator: Moderator, password: str) -> None:
    """Change the password; every dashboard session of the account ends."""
    moderator.password_hash = hash_password(password)
    end_sessions(session, moderator.id)


def admins_left(session: Session, excluding: int | None = None) -> int:
    """Enabled admins, optionally not counting one account (to refuse a lock-out)."""
    query = (
        select(func.count())
        .select_from(Moderator)
        .where(Moderator.role == "admin", Moderator.disabled.is_(False))
    )
    if excluding is not None:
        query = query.where(Moderator.id != excluding)
    return session.scalar(query) or 0


def update_moderator(
    session: Session, moderator_id: int, *, role: str | None = None, disabled: bool | None = None
) -> Moderator:
    """Change a role or enable/disable an account, never leaving the site without an admin."""
    moderator = session.get(Moderator, moderator_id)
    if moderator is None:
        raise AccountError("there is no such moderator")
    if role is not None:
        moderator.role = check_role(role)
    if disabled is not None:
        moderator.disabled = bool(disabled)
        if moderator.disabled:
            end_sessions(session, moderator.id)
    if (moderator.role != "admin" or moderator.disabled) and admins_left(
        session, moderator.id
    ) == 0:
        raise AccountError("this is the last enabled admin: make someone else admin first")
    return moderator


def _session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, moderator: Moderator, lifetime: timedelta = SESSION_LIFETIME
) -> str:
    """Open a dashboard session for ``moderator``; the token its cookie is to carry.

    The session ends at :func:`end_session`, when the password changes or the account is
    disabled (:func:`end_sessions`), and ``lifetime`` after now however much it is used.
    Sessions that have run out are deleted here, where one is opened.
    """
    now = utcnow()
    session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        DashboardSession(
            id=_session_key(token),
            moderator_id=moderator.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def session_moderator(session: Session, token: str | None) -> Moderator | None:
    """The enabled moderator whose session ``token`` names, if it has not ended, else None."""
    if not token:
        return None
    return session.scalar(
        select(Moderator)
        .join(DashboardSession, DashboardSession.moderator_id == Moderator.id)
        .where(
            DashboardSession.id == _session_key(token),
            DashboardSession.expires_at > utcnow(),
            Moderator.disabled.is_(False),
        )
    )


def end_session(session: Session, token: str | None) -> None:
    """End the session ``token`` names, for every copy of its cookie (sign-out)."""
    if token:
        session.execute(delete(DashboardSession).where(DashboardSession.id == _session_key(token)))


def end_sessions(session: Session, moderator_id: int) -> None:
    """End every dashboard session of a moderator, wherever it is signed in."""
    session.execute(delete(DashboardSession).where(DashboardSession.moderator_id == moderator_id))


def list_moderators(session: Session) -> list[Moderator]:
    return list(session.scalars(select(Moderator).order_by(Moderator.email)))


def moderator_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Moderator)) or 0


def audit(
    session: Session, actor: str, action: str, target: str | None = None, **detail
) -> AuditLog:
    """Record one dashboard change in the audit log, in the caller's unit of work, so the
    change and its record commit (or roll back) together."""
    entry = AuditLog(at=utcnow(), actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    return entry


def ensure_demo_admin(session: Session, email: str, password: str | None = None) -> str | None:
    """Create the first admin when there is no account at all, for ``make run``.

    Returns the password when an account was created (generated unless given), else None.
    Never touches existing accounts, so it is safe to run at every start.
    """
    if moderator_count(session) > 0:
        return None
    password = password or generate_password()
    register_moderator(session, email, password, "admin", "system", via="ensure-demo-admin")
    return password
