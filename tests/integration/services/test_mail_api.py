"""The public side of mail: the ``notify`` field of a comment (docs/contract.md §3), the
article page's "notify me" box, and one-click unsubscribe (RFC 8058) through its signed
link: a POST with a valid, forged or expired link, and a GET that changes nothing."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from services.api import create_app
from shared.mail import optout
from shared.models import Comment, MailOptOut
from tests.support.factories import GOOD, open_article, signed_in

SLUG = "istanbul-talks"
ANN = "ann@example.org"


@pytest.fixture
def mail_container(make_container):
    container = make_container(smtp_url="smtp://127.0.0.1:2525", site_url="https://c.example")
    open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/talks")
    return container


@pytest.fixture
def api(mail_container):
    return create_app(mail_container).test_client()


def stored_notify(container) -> list[bool]:
    with container.stores.moderation_read() as session:
        return list(session.scalars(sa.select(Comment.notify).order_by(Comment.created_at)))


def test_notify_is_stored_from_json_and_from_the_form_checkbox(api, mail_container):
    path = f"/api/v1/articles/{SLUG}/comments"
    assert api.post(path, json={**GOOD, "content": "One, asks.", "notify": True}).status_code == 202
    assert api.post(path, json={**GOOD, "content": "Two, no.", "notify": False}).status_code == 202
    assert api.post(path, json={**GOOD, "content": "Three, silent."}).status_code == 202
    assert (
        api.post(path, data={**GOOD, "content": "Four, ticked.", "notify": "on"}).status_code == 303
    )
    assert api.post(path, data={**GOOD, "content": "Five, unticked."}).status_code == 303
    assert stored_notify(mail_container) == [True, False, False, True, False]


@pytest.mark.parametrize("value", [5, "maybe", [True], {"x": 1}])
def test_notify_that_is_not_a_boolean_is_a_422_and_nothing_is_stored(api, mail_container, value):
    response = api.post(f"/api/v1/articles/{SLUG}/comments", json={**GOOD, "notify": value})
    assert response.status_code == 422
    assert response.get_json()["errors"]["notify"] == ["must be true or false"]
    assert stored_notify(mail_container) == []


def test_the_article_page_offers_the_box_only_when_mail_is_configured(api, make_container):
    assert 'name="notify"' in api.get(f"/articles/{SLUG}").get_data(as_text=True)
    off = make_container(site_url="https://c.example")
    open_article(off.stores, "quiet", "Quiet", "https://news.example/quiet")
    page = create_app(off).test_client().get("/articles/quiet").get_data(as_text=True)
    assert 'name="notify"' not in page


def opted_out(container) -> set[str]:
    with container.stores.moderation_read() as session:
        return set(session.scalars(sa.select(MailOptOut.address_hash)))


def link_path(container, address: str = ANN, kind: str = "reply") -> str:
    url = optout.link_url(container.settings.site_url, container.settings.secret_key, address, kind)
    assert url.startswith("https://c.example/api/v1/mail/unsubscribe/")
    return url.removeprefix("https://c.example")


def test_get_shows_a_button_and_changes_nothing(api, mail_container):
    path = link_path(mail_container)
    response = api.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<form method="post"' in html and "<button" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert opted_out(mail_container) == set()


def test_one_click_post_unsubscribes_the_address_once(api, mail_container):
    path = link_path(mail_container)
    for _ in range(2):  # a mail client may send it twice
        response = api.post(
            path,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200 and response.get_json() == {"unsubscribed": True}
    assert opted_out(mail_container) == {optout.address_hash(ANN)}
    # The page's own button: the same, answered with a page.
    other = link_path(mail_container, "bob@example.net", "digest")
    response = api.post(other, headers={"Accept": "text/html"})
    assert response.status_code == 200 and "Unsubscribed" in response.get_data(as_text=True)
    assert len(opted_out(mail_container)) == 2


def test_a_forged_or_altered_link_is_a_400_and_changes_nothing(api, mail_container):
    good = link_path(mail_container)
    head, _, tail = good.rpartition("/")
    forged = URLSafeTimedSerializer("not-the-secret", salt=optout.SALT).dumps(
        {"h": optout.address_hash(ANN), "k": "reply"}
    )
    other_salt = URLSafeTimedSerializer(
        mail_container.settings.secret_key, salt="parley.formtoken"
    ).dumps({"h": optout.address_hash(ANN), "k": "reply"})
    payload, stamp, signature = tail.rsplit(".", 2)
    altered = ".".join((payload[::-1], stamp, signature))  # another payload, same signature
    for token in (forged, other_salt, altered, "nonsense"):
        response = api.post(f"{head}/{token}")
        assert response.status_code == 400, token
        assert response.mimetype == "application/problem+json"
        assert api.get(f"{head}/{token}").status_code == 400
    assert opted_out(mail_container) == set()


def test_an_expired_link_is_a_410_and_changes_nothing(api, mail_container):
    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - optout.LINK_MAX_AGE.total_seconds() - 60)

    token = URLSafeTimedSerializer(
        mail_container.settings.secret_key, salt=optout.SALT, signer=LongAgo
    ).dumps({"h": optout.address_hash(ANN), "k": "reply"})
    response = api.post(f"/api/v1/mail/unsubscribe/{token}")
    assert response.status_code == 410
    assert response.get_json()["title"] == "Link expired"
    page = api.get(f"/api/v1/mail/unsubscribe/{token}", headers={"Accept": "text/html"})
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    assert opted_out(mail_container) == set()


def test_the_dashboard_says_when_mail_is_off(moderator):
    html = moderator.get("/admin/mail").get_data(as_text=True)
    assert 'data-mail="off"' in html and "PARLEY_SMTP_URL" in html


def test_a_moderator_turns_their_own_digest_off_and_on(mail_container):
    from services.dashboard import create_app as dashboard

    dash = signed_in(dashboard(mail_container), mail_container, "mod@news.example", "moderator")
    page = dash.get("/admin/mail").get_data(as_text=True)
    assert 'data-mail="off"' not in page and "smtp://127.0.0.1:2525" in page
    assert "Turn my digest off" in page
    assert dash.post_form("/admin/mail/digest", {"digest": "off"}).status_code == 303
    assert opted_out(mail_container) == {optout.address_hash("mod@news.example")}
    assert "Turn my digest on" in dash.get("/admin/mail").get_data(as_text=True)
    assert dash.post_form("/admin/mail/digest", {"digest": "on"}).status_code == 303
    assert opted_out(mail_container) == set()
    # Without the CSRF token: refused, nothing changes.
    assert dash.client.post("/admin/mail/digest", data={"digest": "off"}).status_code == 400
    assert opted_out(mail_container) == set()
