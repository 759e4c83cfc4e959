"""The widget's report control (docs/contract.md §3, POST /api/v1/comments/{id}/reports) in
a real browser on a host page of another origin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_widget_browser import (  # noqa: F401 - the fixtures, for this module
    publish,
    shadow_focus,
    site,
    w,
    wstack,
)

pytestmark = pytest.mark.browser


def test_report_a_comment_once_counted_then_a_repeat(page, w, site):  # noqa: F811
    stack = w
    target = publish(stack, "Buy cheap watches, best prices, message me.", name="Spammy")
    page.goto(site.url("/talks.html"))
    card = page.locator(f'[data-comment-id="{target}"]')
    opener = card.locator('[data-parley-action="report"]')
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    form = card.locator("form.p-report")
    expect(form.locator('[name="reason"]').first).to_be_focused()
    form.locator('button[type="submit"]').click()  # no reason chosen: said, nothing sent
    expect(form.locator(".p-msg")).to_have_text("Please choose a reason.")
    form.locator('[value="spam"]').check()
    form.locator('[name="note"]').fill("Advertising <b>watches</b>")
    with page.expect_response("**/reports") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 202, answer.value.text()
    assert answer.value.request.post_data_json == {
        "reason": "spam",
        "note": "Advertising <b>watches</b>",
    }
    notice = card.locator('[data-parley-notice="reported"]')
    expect(notice).to_be_focused()
    expect(opener).to_have_attribute("aria-expanded", "false")
    screenshot(page, "widget-reported")

    page.reload()  # the same reader again: not counted twice, and told so
    opener = page.locator(f'[data-comment-id="{target}"] [data-parley-action="report"]')
    opener.focus()
    page.keyboard.press("Enter")
    assert shadow_focus(page)["name"] == "reason"
    page.keyboard.press("ArrowDown")  # the next reason, abuse
    with page.expect_response("**/reports") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect(page.locator('[data-parley-notice="reported"]')).to_contain_text("already reported")
    assert page.errors == [] and page.dialogs == []
