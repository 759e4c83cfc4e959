"""Figures for the release note, measured in the browser: keyboard moderation speed and the
queue page's load time with 10,000 comments in the database."""

from __future__ import annotations

import statistics

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shared.models import Comment, PublishedComment
from tests.browser.conftest import insert_comments, make_account, screenshot, sign_in

pytestmark = pytest.mark.browser

MODERATOR = "mod@news.example"

# Timestamps taken in the page: each "a" key press and each card leaving the queue.
WATCH = """() => {
  window.__t = {keys: [], removed: []};
  document.addEventListener('keydown', e => { if (e.key === 'a') window.__t.keys.push(performance.now()); }, true);
  new MutationObserver(changes => {
    for (const change of changes) for (const node of change.removedNodes)
      if (node.classList && node.classList.contains('card')) window.__t.removed.push(performance.now());
  }).observe(document.getElementById('cards'), {childList: true});
}"""


def test_clear_50_held_comments_by_keyboard(page, fresh, capsys):
    stack = fresh
    make_account(stack, MODERATOR, "moderator")
    insert_comments(stack, 50)
    sign_in(page, stack, MODERATOR)
    expect(page.locator('.card[data-kind="comment"]')).to_have_count(50)
    page.evaluate(WATCH)
    for n in range(1, 51):
        # Like a moderator who waits to see each approval land before the next key.
        page.keyboard.press("a")
        page.wait_for_function("n => window.__t.removed.length >= n", arg=n)
    times = page.evaluate("window.__t")
    expect(page).to_have_title("(0) Held · Parley")
    assert page.errors == []
    per_action = [
        removed - key for key, removed in zip(times["keys"], times["removed"], strict=True)
    ]
    total_s = (times["removed"][-1] - times["keys"][0]) / 1000
    with stack.container.stores.moderation() as session:
        assert session.scalar(sa.select(sa.func.count()).where(Comment.status == "published")) == 50
    with stack.container.stores.articles() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PublishedComment)) == 50
    with capsys.disabled():
        print(
            f"\nFIGURE dashboard: cleared 50 held comments by keyboard: {50 / total_s:.1f} actions/s, "
            f"median {statistics.median(per_action):.0f} ms/action"
        )


def test_queue_page_with_10000_comments(page, fresh, capsys):
    stack = fresh
    make_account(stack, MODERATOR, "moderator")
    insert_comments(stack, 2000, status="published")
    insert_comments(stack, 1500, status="spam", start=2000)
    insert_comments(stack, 500, status="rejected", start=3500)
    for wave in range(3):  # spam waves in the held queue
        insert_comments(
            stack,
            100,
            start=4000 + 100 * wave,
            text=lambda n, w=wave: f"Wave {'abc'[w]} offer: cheap pills, visit now {n}",
        )
    insert_comments(stack, 5700, start=4300)
    with stack.container.stores.moderation() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 10_000
    sign_in(page, stack, MODERATOR)
    loads, server = [], []
    for _ in range(5):
        page.goto(stack.admin_url)
        timing = page.evaluate("""() => { const t = performance.getEntriesByType('navigation')[0];
                                          return {load: t.loadEventEnd - t.startTime,
                                                  server: t.responseStart - t.requestStart}; }""")
        loads.append(timing["load"])
        server.append(timing["server"])
    expect(page.locator('.card[data-kind="comment"]')).to_have_count(50)
    expect(page.locator(".card.wave")).to_have_count(3)
    expect(page).to_have_title("(6000) Held · Parley")
    screenshot(page, "queue-10000")
    with capsys.disabled():
        print(
            f"\nFIGURE dashboard: queue page with 10,000 comments: {statistics.median(loads):.0f} ms (median of 5)"
            f" — server {statistics.median(server):.0f} ms to first byte"
        )
    assert statistics.median(loads) < 3000
