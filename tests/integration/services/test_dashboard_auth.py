"""Dashboard sign-in, sessions, roles, CSRF, throttling and security headers.

The accounts and signed-in clients are tests.support.factories'; the ``dash_app``,
``admin`` and ``moderator`` fixtures are in tests/conftest.py.
"""

from __future__ import annotations

import re

from services.dashboard import create_app
from shared import accounts
from shared.db import session_scope
from tests.support.factories import (
    ADMIN_EMAIL,
    MOD_EMAIL,
    PASSWORD,
    csrf_token,
    login,
    make_account,
)


def test_pages_need_sign_in(dash_app):
    client = dash_app.test_client()
    response = client.get("/admin/queue/spam?q=x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/queue/spam?q%3Dx"
    assert client.get("/admin/api/poll").status_code == 401
    assert client.get("/admin/ops/data").status_code == 401


def test_login_sets_a_safe_session_cookie_and_audits(dash_app, container):
    make_account(container, ADMIN_EMAIL, "admin")
    client = dash_app.test_client()
    response = login(client, "  Admin@News.Example ")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert "parley_admin=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/admin" in cookie and "Secure" not in cookie  # not production
    page = client.get("/admin/")
    assert page.status_code == 200 and ADMIN_EMAIL in page.get_data(as_text=True)
    with container.stores.moderation() as session:
        [entry] = session.query(accounts.AuditLog).all()
        moderator = accounts.find_moderator(session, ADMIN_EMAIL)
    assert (entry.actor, entry.action) == (ADMIN_EMAIL, "login")
    assert moderator.last_login_at is not None


def test_secure_cookie_in_production(make_container):
    parley = make_container(env="production")
    make_account(parley, ADMIN_EMAIL, "admin")
    client = create_app(parley).test_client()
    response = login(client, ADMIN_EMAIL)
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_and_unknown_email_look_alike(dash_app, container):
    make_account(container, ADMIN_EMAIL, "admin")
    client = dash_app.test_client()
    wrong = login(client, ADMIN_EMAIL, "not the password at all")
    unknown = login(client, "nobody@news.example")
    assert wrong.status_code == unknown.status_code == 200
    assert "Wrong e-mail or password" in wrong.get_data(as_text=True)
    assert "Wrong e-mail or password" in unknown.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_open_redirect_refused(dash_app, container):
    make_account(container, ADMIN_EMAIL, "admin")
    client = dash_app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/admin/login",
        data={
            "email": ADMIN_EMAIL,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["Location"] == "/admin/"


def test_login_without_csrf_token_is_400(dash_app, container):
    make_account(container, ADMIN_EMAIL, "admin")
    client = dash_app.test_client()
    client.get("/admin/login")
    response = client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_state_changes_without_csrf_token_are_400(admin):
    client = admin.client
    assert client.post("/admin/api/bulk", json={"action": "spam", "ids": []}).status_code == 400
    assert (
        client.post(
            "/admin/api/comments/x/action",
            json={"action": "spam"},
            headers={"X-CSRFToken": "forged"},
        ).status_code
        == 400
    )
    assert client.post("/admin/settings/tunables", data={"max_links": "5"}).status_code == 400
    assert client.post("/admin/logout").status_code == 400
    # with the token they pass the CSRF check
    assert admin.post_json("/admin/api/bulk", {"action": "spam", "ids": []}).status_code == 200


def test_admin_json_api_still_uses_its_bearer_token(dash_app):
    client = dash_app.test_client()
    assert client.get("/api/v1/admin/comments").status_code == 401
    response = client.get(
        "/api/v1/admin/comments", headers={"Authorization": "Bearer test-admin-token"}
    )
    assert response.status_code == 200
    put = client.put(
        "/api/v1/admin/articles/a-b",
        json={"title": "T", "url": "https://x.example/a"},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert put.status_code == 201  # no CSRF token needed: no browser sends a bearer token


def test_login_throttled_per_account_across_addresses(dash_app, container):
    # A guess spread over many addresses is still stopped: 20 per account in 15 minutes.
    make_account(container, ADMIN_EMAIL, "admin")
    client = dash_app.test_client()
    for n in range(20):
        assert login(client, ADMIN_EMAIL, "wrong password!", ip=f"10.0.0.{n}").status_code == 200
    response = login(client, ADMIN_EMAIL, ip="10.0.0.99")  # right password, fresh IP: still refused
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 800
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_login_throttled_per_ip(dash_app, container):
    # One address guessing many accounts: 20 in 15 minutes, then that address waits.
    make_account(container, ADMIN_EMAIL, "admin")
    client = dash_app.test_client()
    for n in range(20):
        login(client, f"guess{n}@news.example", "wrong password!", ip="192.0.2.7")
    assert login(client, ADMIN_EMAIL, ip="192.0.2.7").status_code == 429
    assert login(client, ADMIN_EMAIL, ip="192.0.2.8").status_code == 303


def test_a_right_password_below_the_limits_signs_in(dash_app, container):
    make_account(container, ADMIN_EMAIL, "admin")
    client = dash_app.test_client()
    for n in range(4):
        login(client, ADMIN_EMAIL, "wrong password!", ip=f"10.1.0.{n}")
    assert login(client, ADMIN_EMAIL, ip="10.1.0.50").status_code == 303
    other = dash_app.test_client()
    login(other, ADMIN_EMAIL, "wrong password!", ip="10.1.0.51")
    assert login(other, ADMIN_EMAIL, ip="10.1.0.52").status_code == 303


def test_moderator_is_refused_admin_pages(moderator):
    for path in ("/admin/settings", "/admin/moderators"):
        response = moderator.get(path)
        assert response.status_code == 403
        assert "Admins only" in response.get_data(as_text=True)
    response = moderator.post_form("/admin/settings/tunables", {"max_links": "9"})
    assert response.status_code == 403
    assert (
        moderator.post_form("/admin/settings/lists/block_word", {"value": "foo"}).status_code == 403
    )
    assert moderator.post_form("/admin/moderators", {"email": "x@y.example"}).status_code == 403
    # but the queues, the activity log and the ops page are theirs
    for path in ("/admin/", "/admin/activity", "/admin/ops"):
        assert moderator.get(path).status_code == 200
    assert "Lists &amp; settings" not in moderator.get("/admin/").get_data(as_text=True)


def test_disabled_account_is_signed_out(admin, moderator, container):
    with session_scope(container.stores.moderation) as session:
        mod = accounts.find_moderator(session, MOD_EMAIL)
        accounts.update_moderator(session, mod.id, disabled=True)
    assert moderator.get("/admin/").status_code == 302
    assert login(moderator.client, MOD_EMAIL).status_code == 200  # refused, like a wrong password


def test_password_change_ends_other_sessions(admin, moderator, container):
    with container.stores.moderation() as session:
        mod_id = accounts.find_moderator(session, MOD_EMAIL).id
    response = admin.post_form(f"/admin/moderators/{mod_id}", {"change": "password"})
    assert response.status_code == 200
    new_password = re.search(r'class="secret">([^<]+)<', response.get_data(as_text=True)).group(1)
    assert moderator.get("/admin/").status_code == 302
    assert login(moderator.client, MOD_EMAIL, new_password).status_code == 303


def test_logout(admin):
    assert admin.post_form("/admin/logout").status_code == 303
    assert admin.get("/admin/").status_code == 302


def test_security_headers(admin):
    response = admin.get("/admin/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html and "style=" not in html
    assert admin.get("/admin/static/dashboard.js").status_code == 200
