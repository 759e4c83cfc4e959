"""Admins' pages: moderation lists, tunable settings, rules' modes and weights, and
moderators' accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.dashboard.auth import actor, admin_required, current_moderator
from services.http import container
from shared import accounts
from shared.db import session_scope
from shared.moderation import lists as ds
from shared.moderation import rulebook
from shared.moderation.modes import MODES

settings_pages = Blueprint("settings", __name__, url_prefix="/admin")


@settings_pages.get("/settings")
@admin_required
def settings():
    parley = container()
    with parley.stores.moderation_read() as session:
        lists = ds.list_entries(session)
        tunables = ds.tunables(session, parley.settings)
        rules = rulebook.rule_rows(session, parley.settings)
    return render_template(
        "settings.html",
        lists=lists,
        tunables=tunables,
        rules=rules,
        modes=MODES,
        labels=ds.LIST_LABELS,
        active="settings",
    )


def _saved() -> None:
    # The workers' caches reread within seconds; ours at once.
    container().policy_cache.invalidate()


@settings_pages.post("/settings/tunables")
@admin_required
def save_tunables():
    parley = container()
    raw = {key: request.form[key] for key in ds.TUNABLE_LABELS if request.form.get(key, "").strip()}
    try:
        with session_scope(parley.stores.moderation) as session:
            changed = ds.set_tunables(session, parley.settings, raw, actor())
    except ds.ChangeError as exc:
        flash(str(exc), "error")
    else:
        _saved()
        flash(
            f"Saved: {', '.join(changed)}. The next check uses it."
            if changed
            else "Nothing changed.",
            "ok",
        )
    return redirect(url_for("settings.settings"), 303)


@settings_pages.post("/settings/lists/<kind>")
@admin_required
def add_entries(kind: str):
    """Add one or more entries (one per line) to a list."""
    values = [v for v in (request.form.get("value") or "").splitlines() if v.strip()]
    added, errors = [], []
    for value in values[:500]:
        try:
            with session_scope(container().stores.moderation) as session:
                added.append(ds.add_list_entry(session, kind, value, actor()).value)
        except ds.ChangeError as exc:
            errors.append(str(exc))
    if added:
        _saved()
        flash(f"Added to {ds.LIST_LABELS.get(kind, (kind,))[0]}: {', '.join(added)}", "ok")
    for error in errors[:5]:
        flash(error, "error")
    if not values:
        flash("Type a value to add.", "error")
    return redirect(url_for("settings.settings") + f"#list-{kind}", 303)


@settings_pages.post("/settings/lists/remove/<int:entry_id>")
@admin_required
def remove_entry(entry_id: int):
    try:
        with session_scope(container().stores.moderation) as session:
            entry = ds.remove_list_entry(session, entry_id, actor())
    except ds.ChangeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("settings.settings"), 303)
    _saved()
    flash(f"Removed {entry.value!r} from {ds.LIST_LABELS.get(entry.kind, (entry.kind,))[0]}.", "ok")
    return redirect(url_for("settings.settings") + f"#list-{entry.kind}", 303)


@settings_pages.post("/settings/rules")
@admin_required
def save_rules():
    """Every rule's mode and weight from one form (an empty weight: the default)."""
    parley = container()
    changed, errors = [], []
    with session_scope(parley.stores.moderation) as session:
        for row in rulebook.rule_rows(session, parley.settings):
            mode = request.form.get(f"mode-{row.rule}", row.mode)
            weight = request.form.get(f"weight-{row.rule}", "")
            try:
                new = rulebook.set_rule(session, parley.settings, row.rule, mode, actor(), weight)
            except rulebook.RuleChangeError as exc:
                errors.append(f"{row.rule}: {exc}")
                continue
            if (new.mode, new.weight) != (row.mode, row.weight):
                changed.append(row.rule)
    if changed:
        _saved()
        flash(f"Saved: {', '.join(changed)}. The next check uses it.", "ok")
    for error in errors[:5]:
        flash(error, "error")
    if not changed and not errors:
        flash("Nothing changed.", "ok")
    return redirect(url_for("settings.settings") + "#rules", 303)


@settings_pages.post("/settings/lists/mode/<int:entry_id>")
@admin_required
def set_entry_mode(entry_id: int):
    """One list entry on, on trial or off."""
    try:
        with session_scope(container().stores.moderation) as session:
            entry = ds.set_entry_mode(session, entry_id, request.form.get("mode", ""), actor())
            kind, value, mode = entry.kind, entry.value, entry.mode
    except ds.ChangeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("settings.settings"), 303)
    _saved()
    flash(f"{ds.LIST_LABELS.get(kind, (kind,))[0]}: {value!r} is {mode}.", "ok")
    return redirect(url_for("settings.settings") + f"#list-{kind}", 303)


# --- moderators ---------------------------------------------------------------------------


def _moderators_page(status: int = 200, secret: tuple[str, str] | None = None):
    with container().stores.moderation_read() as session:
        moderators = accounts.list_moderators(session)
    html = render_template(
        "moderators.html",
        moderators=moderators,
        roles=accounts.ROLES,
        secret=secret,
        active="moderators",
        me=current_moderator(),
    )
    return html, status


@settings_pages.get("/moderators")
@admin_required
def moderators():
    return _moderators_page()


@settings_pages.post("/moderators")
@admin_required
def add_moderator():
    """Create an account; a generated password is shown once on the answer page, never stored
    in a cookie or a log."""
    email = request.form.get("email", "")
    role = request.form.get("role", "moderator")
    password = request.form.get("password") or ""
    generated = not password
    password = password or accounts.generate_password()
    try:
        with session_scope(container().stores.moderation) as session:
            moderator = accounts.register_moderator(session, email, password, role, actor())
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("settings.moderators"), 303)
    flash(f"Added {role} {moderator.email}.", "ok")
    if generated:
        return _moderators_page(201, (moderator.email, password))
    return redirect(url_for("settings.moderators"), 303)


@settings_pages.post("/moderators/<int:moderator_id>")
@admin_required
def update_moderator(moderator_id: int):
    change = request.form.get("change")
    try:
        with session_scope(container().stores.moderation) as session:
            if change == "role":
                moderator = accounts.update_moderator(
                    session, moderator_id, role=request.form.get("role", "")
                )
                detail = {"role": moderator.role}
            elif change in ("disable", "enable"):
                moderator = accounts.update_moderator(
                    session, moderator_id, disabled=change == "disable"
                )
                detail = {"disabled": moderator.disabled}
            elif change == "password":
                moderator = session.get(accounts.Moderator, moderator_id)
                if moderator is None:
                    raise accounts.AccountError("there is no such moderator")
                password = accounts.generate_password()
                accounts.set_password(session, moderator, password)
                detail = {"password": "reset"}
            else:
                raise accounts.AccountError("unknown change")
            accounts.audit(
                session,
                actor(),
                "moderator.update" if change != "password" else "moderator.password",
                moderator.email,
                **detail,
            )
            email = moderator.email
    except accounts.AccountError as exc:
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("settings.moderators"), 303)
    if change == "password":
        flash(f"New password for {email}; their other sessions are signed out.", "ok")
        return _moderators_page(200, (email, password))
    flash(f"Updated {email}.", "ok")
    return redirect(url_for("settings.moderators"), 303)
