"""The admin API's webhook endpoints (docs/contract.md §4): what they accept and refuse,
the secret shown once, private addresses refused unless PARLEY_WEBHOOK_ALLOW_PRIVATE."""

from __future__ import annotations

import pytest

from tests.support.factories import ADMIN

HOOKS = "/api/v1/admin/webhooks"
PUBLIC_URL = "https://8.8.8.8/parley-hook"  # a public address: no DNS needed


def test_register_list_delete(admin_client):
    created = admin_client.post(
        HOOKS, json={"url": PUBLIC_URL, "events": ["comment.published"]}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert set(body) >= {"id", "url", "events", "secret"}
    assert body["url"] == PUBLIC_URL and body["events"] == ["comment.published"]
    assert len(body["secret"]) >= 32
    assert created.headers["Cache-Control"] == "no-store"
    listed = admin_client.get(HOOKS, headers=ADMIN)
    assert listed.status_code == 200
    assert body["secret"] not in listed.text and "secret" not in listed.text
    [shown] = listed.get_json()["webhooks"]
    assert shown["id"] == body["id"] and shown["enabled"] is True
    assert admin_client.delete(f"{HOOKS}/{body['id']}", headers=ADMIN).status_code == 204
    assert admin_client.delete(f"{HOOKS}/{body['id']}", headers=ADMIN).status_code == 404
    assert admin_client.get(HOOKS, headers=ADMIN).get_json() == {"webhooks": []}


def test_a_given_secret_is_kept(admin_client):
    secret = "a-secret-of-our-own-0123456789"
    created = admin_client.post(
        HOOKS,
        json={"url": PUBLIC_URL, "events": ["comment.held"], "secret": secret},
        headers=ADMIN,
    )
    assert created.status_code == 201 and created.get_json()["secret"] == secret


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://8.8.8.8/hook",
    ],
)
def test_private_and_odd_urls_are_refused(admin_client, url):
    response = admin_client.post(
        HOOKS, json={"url": url, "events": ["comment.published"]}, headers=ADMIN
    )
    assert response.status_code == 422, response.text
    assert response.mimetype == "application/problem+json"
    assert "url" in response.get_json()["errors"]


def test_private_urls_are_allowed_when_configured(make_container):
    from services.dashboard import create_app

    client = create_app(make_container(webhook_allow_private=True)).test_client()
    response = client.post(
        HOOKS, json={"url": "http://127.0.0.1:9/hook", "events": ["comment.held"]}, headers=ADMIN
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": PUBLIC_URL, "events": []}, "events"),
        ({"url": PUBLIC_URL, "events": ["comment.liked"]}, "events"),
        ({"url": PUBLIC_URL, "events": "comment.held"}, "events"),
        ({"url": PUBLIC_URL}, "events"),
        ({"events": ["comment.held"]}, "url"),
        ({"url": PUBLIC_URL, "events": ["comment.held"], "secret": "short"}, "secret"),
        ({"url": PUBLIC_URL, "events": ["comment.held"], "secret": 12345678901234567}, "secret"),
    ],
)
def test_bad_fields_are_422(admin_client, body, field):
    response = admin_client.post(HOOKS, json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert field in response.get_json()["errors"]


def test_every_path_wants_the_token_and_knows_unknown_ids(admin_client):
    assert admin_client.get(HOOKS).status_code == 401
    assert admin_client.post(HOOKS, json={}).status_code == 401
    for path in ("/nope/deliveries",):
        assert admin_client.get(HOOKS + path, headers=ADMIN).status_code == 404
    assert (
        admin_client.post(
            f"{HOOKS}/nope/replay", json={"since": "2026-01-01"}, headers=ADMIN
        ).status_code
        == 404
    )


def test_replay_and_deliveries_validate(admin_client):
    hook = admin_client.post(
        HOOKS, json={"url": PUBLIC_URL, "events": ["comment.held"]}, headers=ADMIN
    ).get_json()
    replay = f"{HOOKS}/{hook['id']}/replay"
    for body, field in (
        ({}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "until"),
    ):
        response = admin_client.post(replay, json=body, headers=ADMIN)
        assert response.status_code == 422 and field in response.get_json()["errors"], body
    response = admin_client.post(replay, json={"since": "2026-12-01T00:00:00Z"}, headers=ADMIN)
    assert response.status_code == 202 and response.get_json() == {"deliveries": 0}
    deliveries = f"{HOOKS}/{hook['id']}/deliveries"
    assert admin_client.get(deliveries, headers=ADMIN).get_json() == {
        "deliveries": [],
        "next_cursor": None,
    }
    for query in ("?limit=0", "?limit=x", "?cursor=abc"):
        assert admin_client.get(deliveries + query, headers=ADMIN).status_code == 422, query


# --- the dashboard's Webhooks page (admins) ------------------------------------------------


def test_the_webhooks_page_shows_the_secret_once(admin, moderator):
    page = admin.get("/admin/webhooks")
    assert page.status_code == 200 and "No webhooks yet" in page.get_data(as_text=True)
    created = admin.post_form(
        "/admin/webhooks", {"url": PUBLIC_URL, "events": ["comment.published", "comment.held"]}
    )
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "data-secret" in html
    secret = html.split("data-secret>", 1)[1].split("<", 1)[0]
    assert secret.startswith("whsec_") and created.headers["Cache-Control"] == "no-store"
    again = admin.get("/admin/webhooks").get_data(as_text=True)
    assert PUBLIC_URL in again and secret not in again and "No deliveries yet" in again
    refused = admin.post_form(
        "/admin/webhooks", {"url": "http://10.0.0.1/", "events": ["comment.held"]}
    )
    assert refused.status_code == 422 and "private address" in refused.get_data(as_text=True)
    # Moderators who are not admins do not see it.
    assert moderator.get("/admin/webhooks").status_code == 403


def test_the_page_deletes_and_replays(admin, admin_client):
    hook = admin_client.post(
        HOOKS, json={"url": PUBLIC_URL, "events": ["comment.held"]}, headers=ADMIN
    ).get_json()
    replayed = admin.post_form(
        f"/admin/webhooks/{hook['id']}/replay", {"since": "2026-01-01T00:00:00Z"}
    )
    assert replayed.status_code == 303
    assert "Replaying 0 events" in admin.get("/admin/webhooks").get_data(as_text=True)
    assert admin.post_form(f"/admin/webhooks/{hook['id']}/delete").status_code == 303
    assert admin_client.get(HOOKS, headers=ADMIN).get_json() == {"webhooks": []}
