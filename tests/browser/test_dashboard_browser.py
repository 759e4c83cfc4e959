"""The dashboard in a real browser: sign in, keyboard moderation, live queue, spam waves,
escaping of hostile comments (dashboard and public page), and roles."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from shared.moderation import actions, pipeline
from shared.ops import collector, heartbeat, series
from tests.browser.conftest import insert_comments, make_account, screenshot, sign_in

pytestmark = pytest.mark.browser

ADMIN = "admin@news.example"
MODERATOR = "mod@news.example"
LINKS = "See http://a.example and http://b.example"
XSS = "<img src=x onerror=alert(1)> <script>window.__xss=1</script>"


def submit(stack, **fields) -> str:
    """A comment posted to the api process, then checked in-process (no worker runs here)."""
    body = {"author_name": "Ayşe", "author_email": "ayse@example.org", "content": "Hello", **fields}
    response = httpx.post(f"{stack.api.url}/api/v1/articles/talks/comments", json=body)
    assert response.status_code == 202, response.text
    cid = response.json()["id"]
    assert pipeline.check_comment(stack.container, cid) == "held"
    return cid


def statuses(stack) -> dict[str, int]:
    """Comments per status, the statuses with none left out."""
    return {status: n for status, n in collector.comment_counts(stack.container).items() if n}


def assert_no_script_ran(page) -> None:
    assert page.dialogs == [], page.dialogs
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_sign_in_keyboard_approve_live_queue_and_public_page(page, fresh):
    stack = fresh
    make_account(stack, ADMIN, "admin")
    first = submit(stack, content=f"{LINKS} for the first time")
    sign_in(page, stack, ADMIN, shot="login")
    card = page.locator(f"#c-{first}")
    expect(card).to_be_visible()
    expect(card).to_have_class(re.compile(r"\bcurrent\b"))  # focused: ready for the keyboard
    expect(page).to_have_title("(1) Held · Parley")
    screenshot(page, "queue-held")

    page.keyboard.press("a")
    expect(card).to_have_count(0)
    expect(page).to_have_title("(0) Held · Parley")
    assert statuses(stack) == {"published": 1}

    # a new held comment appears without a reload (the page polls), with its count in the title
    hostile = submit(
        stack,
        content=f"{LINKS} {XSS}",
        author_name="<img src=y onerror=alert(2)>",
        author_email="mallory@example.org",
    )
    live = page.locator(f"#c-{hostile}")
    expect(live).to_be_visible(timeout=12_000)
    expect(page).to_have_title("(1) Held · Parley")
    expect(live.locator(".content")).to_contain_text("<script>window.__xss=1</script>")
    expect(live.locator(".author")).to_have_text("<img src=y onerror=alert(2)>")
    assert_no_script_ran(page)
    page.reload()  # the server-rendered card is just as inert
    expect(page.locator(f"#c-{hostile} .content")).to_contain_text("<img src=x onerror=alert(1)>")
    assert_no_script_ran(page)
    screenshot(page, "queue-hostile-comment")

    page.locator(f"#c-{hostile} button.approve").click()  # the mouse works too
    expect(page.locator(f"#c-{hostile}")).to_have_count(0)
    assert page.errors == []

    # a card decided in another moderator's browser leaves this page without a reload
    elsewhere = submit(stack, content=f"{LINKS} decided elsewhere", author_email="eve@example.org")
    expect(page.locator(f"#c-{elsewhere}")).to_be_visible(timeout=12_000)
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        tab = other.new_page()
        sign_in(tab, stack, ADMIN)
        tab.locator(f"#c-{elsewhere} button.spam").click()
        expect(tab.locator(f"#c-{elsewhere}")).to_have_count(0)
    finally:
        other.close()
    expect(page.locator(f"#c-{elsewhere}")).to_have_count(0, timeout=12_000)
    expect(page.locator("#toast")).to_have_text("1 comment was decided elsewhere")
    expect(page).to_have_title("(0) Held · Parley")
    assert page.errors == []

    public = page.context.new_page()
    public.dialogs = page.dialogs
    public.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    public.goto(f"{stack.api.url}/articles/talks")
    expect(public.get_by_text("for the first time")).to_be_visible()
    expect(public.get_by_text("<script>window.__xss=1</script>", exact=False)).to_be_visible()
    assert public.evaluate("typeof window.__xss") == "undefined"
    assert page.dialogs == []
    screenshot(public, "article-page")


def test_spam_wave_and_selection_in_bulk(page, fresh):
    stack = fresh
    make_account(stack, MODERATOR, "moderator")
    wave = insert_comments(stack, 6, text=lambda n: f"Cheap watches at our shop, visit now!!! {n}")
    others = insert_comments(stack, 3, start=100)
    sign_in(page, stack, MODERATOR)
    wave_card = page.locator(".card.wave")
    expect(wave_card).to_have_count(1)
    expect(wave_card).to_contain_text("6 similar")
    expect(wave_card).to_have_class(re.compile(r"\bcurrent\b"))
    for cid in wave:
        expect(page.locator(f"#c-{cid}")).to_have_count(0)  # one card for the whole wave
    screenshot(page, "spam-wave")

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    screenshot(page, "keyboard-help")
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()

    page.keyboard.press("s")
    expect(page.locator("#toast")).to_contain_text("Press s again")
    page.keyboard.press("s")
    expect(wave_card).to_have_count(0)
    expect(page.locator('.topbar [data-count="spam"]')).to_have_text("6")
    assert statuses(stack) == {"spam": 6, "held": 3}

    # x selects, j moves, r rejects everything selected
    newest_first = list(reversed(others))
    expect(page.locator(f"#c-{newest_first[0]}")).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.keyboard.press("r")
    expect(page.locator(f"#c-{newest_first[0]}")).to_have_count(0)
    expect(page.locator(f"#c-{newest_first[1]}")).to_have_count(0)
    expect(page.locator(f"#c-{newest_first[2]}")).to_be_visible()
    expect(page).to_have_title("(1) Held · Parley")
    assert statuses(stack) == {"spam": 6, "rejected": 2, "held": 1}

    # another moderator decides the last one first: the card goes, with a clear message
    actions.moderate(stack.container, newest_first[2], "reject", "other@news.example")
    page.locator(f"#c-{newest_first[2]}").click()
    page.keyboard.press("a")
    expect(page.locator(f"#c-{newest_first[2]}")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("Cannot approve a comment that is rejected")
    assert page.errors == [] and page.dialogs == []


def test_roles_settings_activity_and_ops(page, fresh):
    stack = fresh
    make_account(stack, MODERATOR, "moderator")
    make_account(stack, ADMIN, "admin")
    sign_in(page, stack, MODERATOR)
    expect(page.locator(".topbar")).not_to_contain_text("Lists & settings")
    response = page.goto(stack.dashboard.url + "/admin/settings")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Admins only")
    screenshot(page, "moderator-refused-settings")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/admin/login")

    sign_in(page, stack, ADMIN)
    page.get_by_role("link", name="Lists & settings").click()
    page.fill("#t-max_links", "5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash.ok")).to_contain_text("Saved: max_links")
    screenshot(page, "settings")
    page.fill("#list-block_word textarea", "zorblax")
    page.locator("#list-block_word button[type=submit]").first.click()
    expect(page.locator("#list-block_word .entries")).to_contain_text("zorblax")
    screenshot(page, "settings-lists")

    page.get_by_role("link", name="Moderators", exact=True).click()
    expect(page.locator("table.list")).to_contain_text(MODERATOR)
    screenshot(page, "moderators")

    page.get_by_role("link", name="Activity", exact=True).click()
    expect(page.locator("table.activity")).to_contain_text("setting.set")
    expect(page.locator("table.activity")).to_contain_text("list.add")
    screenshot(page, "activity")

    # a little traffic, so the charts have something to draw
    series.record_decisions(
        stack.container.settings.redis_url,
        [("published", 0.4), ("held", 0.9), ("spam", 0.3), ("published", 0.5)],
    )
    series.record_akismet(stack.container.settings.redis_url, "comment-check", "ok", 0.12)
    heartbeat.write_heartbeat(stack.container.redis, "worker@browser-test", 2)
    page.get_by_role("link", name="Ops", exact=True).click()
    expect(page.locator('[data-chart="queue_depth"] svg')).to_have_count(1)
    expect(page.locator("#ops-status")).to_contain_text("Updated")
    expect(page.locator("#workers")).to_contain_text("worker@browser-test")
    screenshot(page, "ops")
    assert page.errors == [] and page.dialogs == []
