"""Admins' pages: lists and settings used by the next check, accounts, the activity log
and the ops page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared import accounts
from shared.accounts import AuditLog
from shared.bootstrap import Container
from shared.models import ListEntry, SettingOverride, utcnow
from shared.moderation import pipeline
from tests.support.factories import (
    ADMIN_EMAIL,
    MOD_EMAIL,
    held,
    login,
    signed_in,
    status_of,
    submit,
)


def audit_entries(container) -> list[tuple]:
    with container.stores.moderation() as session:
        rows = session.scalars(
            sa.select(AuditLog).where(AuditLog.action != "login").order_by(AuditLog.id)
        )
        return [(e.actor, e.action, e.target, e.detail) for e in rows]


def test_settings_page_shows_lists_and_tunables(admin):
    html = admin.get("/admin/settings").get_data(as_text=True)
    for title in (
        "Block words",
        "Hold words",
        "Blocked e-mails",
        "Blocked IPs",
        "Blocked domains",
        "Trusted authors",
    ):
        assert title in html
    assert "viagra" in html  # a default block word
    for key in ("hold_threshold", "spam_threshold", "max_links", "min_form_seconds"):
        assert f'name="{key}"' in html


def test_max_links_change_is_used_by_the_next_check(admin, container, client, article):
    three_links = "See http://a.example, http://b.example and http://c.example for more"
    before = submit(client, article, content=three_links, author_email="one@example.org")
    assert pipeline.check_comment(container, before) == "held"
    response = admin.post_form("/admin/settings/tunables", {"max_links": "5"})
    assert response.status_code == 303
    assert "Saved: max_links" in admin.get("/admin/settings").get_data(as_text=True)
    after = submit(client, article, content=three_links + " too", author_email="two@example.org")
    assert pipeline.check_comment(container, after) == "published"
    # a separate process (a worker) with its own cache sees it too
    worker = Container(container.settings)
    try:
        third = submit(
            client, article, content=three_links + " again", author_email="three@example.org"
        )
        assert pipeline.check_comment(worker, third) == "published"
    finally:
        worker.close()
    assert audit_entries(container) == [
        (ADMIN_EMAIL, "setting.set", "max_links", {"old": 2, "new": 5, "default": 2})
    ]
    # back to the default: the override is removed, the environment governs again
    admin.post_form("/admin/settings/tunables", {"max_links": "2"})
    with container.stores.moderation() as session:
        assert session.scalars(sa.select(SettingOverride)).all() == []


def test_tunable_validation(admin, container):
    for data, message in (
        ({"max_links": "many"}, "Max links must be a whole number"),
        ({"max_links": "0"}, "Max links must be between 1 and 1000"),
        (
            {"hold_threshold": "5", "spam_threshold": "4"},
            "the hold threshold must be lower than the spam threshold",
        ),
        ({"spam_threshold": "nan"}, "Spam threshold must be between"),
    ):
        admin.post_form("/admin/settings/tunables", data)
        assert message in admin.get("/admin/settings").get_data(as_text=True)
    assert audit_entries(container) == []


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_lists_edit_is_used_by_the_next_check_and_audited(
    backend, admin, container, client, article
):
    response = admin.post_form(
        "/admin/settings/lists/block_word", {"value": "  Zorblax \nquux frob\n"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("#list-block_word")
    cid = submit(client, article, content="Buy zorblax today", author_email="z@example.org")
    assert pipeline.check_comment(container, cid) == "spam"
    admin.post_form(
        "/admin/settings/lists/blocked_ip", {"value": "203.0.113.0/24\n198.51.100.7\nnot-an-ip"}
    )
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert (
        "203.0.113.0/24" in html
        and "198.51.100.7" in html
        and "&#39;not-an-ip&#39; is not an IP address" in html
    )
    admin.post_form("/admin/settings/lists/block_word", {"value": "zorblax"})
    assert "&#39;zorblax&#39; is already on the list" in admin.get("/admin/settings").get_data(
        as_text=True
    )
    with container.stores.moderation() as session:
        entry = session.scalars(sa.select(ListEntry).where(ListEntry.value == "zorblax")).one()
        assert entry.created_by == ADMIN_EMAIL
    admin.post_form(f"/admin/settings/lists/remove/{entry.id}")
    again = submit(client, article, content="Buy zorblax tomorrow", author_email="y@example.org")
    assert pipeline.check_comment(container, again) == "published"
    assert [(a, t, d["value"]) for _, a, t, d in audit_entries(container)] == [
        ("list.add", "block_word", "zorblax"),
        ("list.add", "block_word", "quux frob"),
        ("list.add", "blocked_ip", "203.0.113.0/24"),
        ("list.add", "blocked_ip", "198.51.100.7"),
        ("list.remove", "block_word", "zorblax"),
    ]
    assert admin.post_form("/admin/settings/lists/nonsense", {"value": "x"}).status_code == 303
    assert "unknown list" in admin.get("/admin/settings").get_data(as_text=True)


def test_moderator_accounts(admin, dash_app, container):
    response = admin.post_form(
        "/admin/moderators", {"email": "New@News.Example", "role": "moderator"}
    )
    assert response.status_code == 201
    password = re.search(r'class="secret">([^<]+)<', response.get_data(as_text=True)).group(1)
    assert login(dash_app.test_client(), "new@news.example", password).status_code == 303
    admin.post_form(
        "/admin/moderators", {"email": "new@news.example", "password": "long enough pw"}
    )
    assert "already exists" in admin.get("/admin/moderators").get_data(as_text=True)
    admin.post_form("/admin/moderators", {"email": "short@news.example", "password": "short"})
    assert "at least 10 characters" in admin.get("/admin/moderators").get_data(as_text=True)
    with container.stores.moderation() as session:
        new_id = accounts.find_moderator(session, "new@news.example").id
        admin_id = accounts.find_moderator(session, ADMIN_EMAIL).id
    admin.post_form(f"/admin/moderators/{new_id}", {"change": "role", "role": "admin"})
    admin.post_form(f"/admin/moderators/{new_id}", {"change": "disable"})
    with container.stores.moderation() as session:
        new = accounts.find_moderator(session, "new@news.example")
        assert (new.role, new.disabled) == ("admin", True)
    # the last enabled admin cannot lock everyone out
    admin.post_form(f"/admin/moderators/{admin_id}", {"change": "role", "role": "moderator"})
    assert "last enabled admin" in admin.get("/admin/moderators").get_data(as_text=True)
    assert [(a, t) for _, a, t, _ in audit_entries(container)] == [
        ("moderator.create", "new@news.example"),
        ("moderator.update", "new@news.example"),
        ("moderator.update", "new@news.example"),
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_activity_log_lists_decisions_and_changes_with_filters(
    backend, admin, dash_app, container, client, article
):
    mod = signed_in(dash_app, container, MOD_EMAIL, "moderator")
    first = held(container, client, article, 1)
    second = held(container, client, article, 2)
    mod.post_json(f"/admin/api/comments/{first}/action", {"action": "approve"})
    admin.post_json(f"/admin/api/comments/{second}/action", {"action": "spam"})
    admin.post_form("/admin/settings/lists/hold_word", {"value": "gizmo"})
    assert status_of(container, first) == "published"

    def rows(query=""):
        html = admin.get("/admin/activity" + query).get_data(as_text=True)
        body = html[html.index("<tbody>") : html.index("</tbody>")]
        return re.findall(r"<td>([^<]+)</td>\s*<td><b>([^<]+)</b></td>", body)

    everything = rows()
    assert (MOD_EMAIL, "approve") in everything and (ADMIN_EMAIL, "spam") in everything
    assert (ADMIN_EMAIL, "list.add") in everything and (ADMIN_EMAIL, "login") in everything
    assert (
        "worker",
        "check",
    ) not in everything  # the workers' own steps are not moderators' actions
    assert set(rows(f"?actor={MOD_EMAIL}")) == {(MOD_EMAIL, "approve"), (MOD_EMAIL, "login")}
    assert rows("?action=spam") == [(ADMIN_EMAIL, "spam")]
    assert rows("?action=list.add") == [(ADMIN_EMAIL, "list.add")]
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    today = utcnow().date().isoformat()
    assert rows(f"?from={tomorrow}") == []
    assert len(rows(f"?from={today}&to={today}")) == len(everything)
    assert admin.get("/admin/activity?from=someday").status_code == 422
    assert "gizmo" in admin.get("/admin/activity?action=list.add").get_data(as_text=True)


def test_ops_page_and_data(admin):
    html = admin.get("/admin/ops").get_data(as_text=True)
    assert "ops.js" in html and 'data-chart="queue_depth"' in html
    data = admin.get("/admin/ops/data").get_json()
    for key in (
        "generated_at",
        "minutes",
        "queue_depth",
        "oldest_unchecked_age",
        "decisions",
        "akismet",
        "check_latency",
        "workers",
    ):
        assert key in data
    assert len(data["minutes"]) == 60


def test_metrics_served_by_the_dashboard(dash_app):
    response = dash_app.test_client().get("/metrics")
    assert response.status_code == 200 and "parley_" in response.get_data(as_text=True)
