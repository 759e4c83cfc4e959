"""Dashboard sessions end for every copy of their cookie: at sign-out, at a password change,
when the account is disabled, and 12 hours after sign-in however much they are used
(issue 22). Each dashboard process sees the same sessions: they are kept in the database.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from services.dashboard import create_app
from shared import accounts
from shared.db import session_scope
from shared.models.moderation_store import DashboardSession
from tests.support.factories import (
    ADMIN_EMAIL,
    MOD_EMAIL,
    Dash,
    login,
    make_account,
    signed_in,
)

COOKIE = "parley_admin"


def copy_of(app, dash: Dash):
    """A client of ``app`` holding a copy of ``dash``'s session cookie, as a thief would."""
    cookie = dash.client.get_cookie(COOKIE, path="/admin")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value, path="/admin")
    return thief


def signed_in_page(client) -> bool:
    return client.get("/admin/").status_code == 200


def travel(container, delta: timedelta) -> None:
    """Move every time stored with the dashboard's sessions ``delta`` into the past: as if
    ``delta`` went by (no sleeping, no clock patched)."""
    with session_scope(container.stores.moderation) as session:
        for row in session.scalars(sa.select(DashboardSession)):
            for column in DashboardSession.__table__.c:
                value = getattr(row, column.key)
                if isinstance(value, datetime):
                    setattr(row, column.key, value - delta)


def test_copied_cookie_refused_after_sign_out(dash_app, container):
    owner = signed_in(dash_app, container, MOD_EMAIL, "moderator")
    thief = copy_of(dash_app, owner)
    assert signed_in_page(thief)
    assert owner.post_form("/admin/logout").status_code == 303
    assert not signed_in_page(owner.client)
    assert not signed_in_page(thief)
    assert thief.get("/admin/api/poll").status_code == 401


def test_sign_out_in_one_process_holds_in_every_process(make_container):
    first = make_container()
    second = make_container()  # another dashboard process on the same database
    app_one, app_two = create_app(first), create_app(second)
    owner = signed_in(app_one, first, MOD_EMAIL, "moderator")
    elsewhere = copy_of(app_two, owner)
    assert signed_in_page(elsewhere)
    assert owner.post_form("/admin/logout").status_code == 303
    assert not signed_in_page(elsewhere)


def test_sign_out_ends_only_that_session(dash_app, container):
    laptop = signed_in(dash_app, container, MOD_EMAIL, "moderator")
    phone = dash_app.test_client()
    assert login(phone, MOD_EMAIL).status_code == 303
    assert laptop.post_form("/admin/logout").status_code == 303
    assert signed_in_page(phone)
    assert not signed_in_page(laptop.client)
    # and signing in again gives a new session that works
    assert login(laptop.client, MOD_EMAIL).status_code == 303
    assert signed_in_page(laptop.client)


def test_copied_cookie_refused_after_password_change(dash_app, container):
    admin = signed_in(dash_app, container, ADMIN_EMAIL, "admin")
    moderator = signed_in(dash_app, container, MOD_EMAIL, "moderator")
    thief = copy_of(dash_app, moderator)
    with container.stores.moderation() as session:
        mod_id = accounts.find_moderator(session, MOD_EMAIL).id
    response = admin.post_form(f"/admin/moderators/{mod_id}", {"change": "password"})
    assert response.status_code == 200
    new_password = re.search(r'class="secret">([^<]+)<', response.get_data(as_text=True)).group(1)
    assert not signed_in_page(thief)
    assert not signed_in_page(moderator.client)
    assert signed_in_page(admin.client)  # someone else's reset leaves the admin signed in
    assert login(moderator.client, MOD_EMAIL, new_password).status_code == 303
    assert signed_in_page(moderator.client)
    assert not signed_in_page(thief)


def test_password_change_in_the_store_ends_every_session(dash_app, container):
    # Any caller of accounts.set_password (the CLI, a script) signs the account out too.
    moderator = signed_in(dash_app, container, MOD_EMAIL, "moderator")
    thief = copy_of(dash_app, moderator)
    with session_scope(container.stores.moderation) as session:
        account = accounts.find_moderator(session, MOD_EMAIL)
        accounts.set_password(session, account, "a brand new passphrase")
    assert not signed_in_page(thief)
    assert not signed_in_page(moderator.client)


def test_copied_cookie_refused_once_the_account_is_disabled_and_after_re_enabling(
    dash_app, container
):
    make_account(container, ADMIN_EMAIL, "admin")
    moderator = signed_in(dash_app, container, MOD_EMAIL, "moderator")
    thief = copy_of(dash_app, moderator)
    with session_scope(container.stores.moderation) as session:
        mod_id = accounts.find_moderator(session, MOD_EMAIL).id
        accounts.update_moderator(session, mod_id, disabled=True)
    assert not signed_in_page(thief)
    with session_scope(container.stores.moderation) as session:
        accounts.update_moderator(session, mod_id, disabled=False)
    assert not signed_in_page(thief), "re-enabling does not bring old sessions back"
    assert not signed_in_page(moderator.client)


def test_session_ends_twelve_hours_after_sign_in_however_it_is_used(dash_app, container):
    moderator = signed_in(dash_app, container, MOD_EMAIL, "moderator")
    thief = copy_of(dash_app, moderator)
    travel(container, timedelta(hours=11, minutes=58))
    for _ in range(3):  # in use all the time: this must not push the end back
        assert signed_in_page(moderator.client)
        assert moderator.get("/admin/api/poll").status_code == 200
    assert signed_in_page(thief)
    travel(container, timedelta(minutes=3))  # 12 h 1 min after sign-in
    assert not signed_in_page(moderator.client)
    assert not signed_in_page(thief)
    assert moderator.get("/admin/api/poll").status_code == 401


def test_session_lifetime_is_the_app_setting(make_container):
    parley = make_container()
    app = create_app(parley)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=1)
    moderator = signed_in(app, parley, MOD_EMAIL, "moderator")
    travel(parley, timedelta(minutes=59))
    assert signed_in_page(moderator.client)
    travel(parley, timedelta(minutes=2))
    assert not signed_in_page(moderator.client)
