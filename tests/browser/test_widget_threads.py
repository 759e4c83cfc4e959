"""The widget's threading as a property (hypothesis, in a real browser): whatever the shape
of the published comments (any parent among the others, parents published after their
replies, replies to comments not published, more than one page), every comment is shown
once, inside its parent's element when the parent is shown and at the top otherwise."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect

from shared.models import PublishedComment, utcnow
from tests.browser.test_widget_browser import site, w, wstack  # noqa: F401 - the fixtures

pytestmark = pytest.mark.browser

# Each comment: its parent (an index among all comments, or None, or -1 for one that is
# not published) and its place in the order of publication.
SHAPES = st.integers(min_value=1, max_value=130).flatmap(
    lambda n: st.tuples(
        st.lists(st.one_of(st.none(), st.just(-1), st.integers(0, n - 1)), min_size=n, max_size=n),
        st.permutations(range(n)),
    )
)

# Where each comment is, in the page: its parent element's comment id (or null at the top).
READ = """() => Array.from(
  document.getElementById('parley-comments').shadowRoot.querySelectorAll('[data-comment-id]'),
  el => {
    const up = el.parentElement.closest('[data-comment-id]');
    return [el.getAttribute('data-comment-id'), up && up.getAttribute('data-comment-id')];
  })"""


def acyclic(parents: list[int | None]) -> list[int | None]:
    """The parents with any cycle cut (a comment cannot answer its own reply)."""
    fixed = list(parents)
    for start in range(len(fixed)):
        seen, at = set(), start
        while fixed[at] is not None and fixed[at] >= 0:
            if at in seen:
                fixed[start] = None
                break
            seen.add(at)
            at = fixed[at]
    return [None if p == i else p for i, p in enumerate(fixed)]


def _publish_only(stack, rows: list[dict]) -> None:
    """Make ``rows`` the only published comments of the stack."""
    engine = sa.create_engine(stack.database_url)
    with engine.begin() as conn:
        conn.execute(sa.delete(PublishedComment))
        conn.execute(sa.insert(PublishedComment), rows)
    engine.dispose()


@pytest.mark.timeout(300)
@settings(
    max_examples=12,
    deadline=None,
    # a page load an example: shrinking a failure would take minutes; the failing shape
    # is printed whole instead
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shape=SHAPES)
# a reply published before its parent, the parent on the second page of 100
@example(shape=([1] + [None] * 119, [0, *range(2, 120), 1]))
def test_every_comment_once_under_its_shown_parent(page, w, site, shape):  # noqa: F811
    stack = w
    parents, order = shape
    parents = acyclic(parents)
    ids = [uuid.uuid4().hex for _ in parents]
    now = utcnow().replace(microsecond=0)
    rows = [
        dict(
            id=ids[i],
            article_slug="talks",
            parent_id=(uuid.uuid4().hex if p == -1 else ids[p] if p is not None else None),
            author_name=f"Reader {i}",
            author_url=None,
            content=f"Comment {i}",
            published_at=now - timedelta(seconds=len(parents) - order[i]),
        )
        for i, p in enumerate(parents)
    ]
    _publish_only(stack, rows)
    page.goto(site.url("/talks.html"))
    expect(page.locator("[data-comment-id]")).to_have_count(len(rows))
    where = dict(page.evaluate(READ))
    assert len(where) == len(rows)
    for i, p in enumerate(parents):
        expected = ids[p] if p is not None and p >= 0 else None
        assert where[ids[i]] == expected, (i, p)
    assert page.errors == []


# The comments at the top, in the order shown, and one comment's replies in the order shown.
TOP = """() => Array.from(
  document.getElementById('parley-comments').shadowRoot.querySelectorAll('[data-comment-id]'),
).filter(el => !el.parentElement.closest('[data-comment-id]')).map(el => el.getAttribute('data-comment-id'))"""
REPLIES = """(id) => Array.from(
  document.getElementById('parley-comments').shadowRoot
    .querySelector(`[data-comment-id="${id}"] > .p-replies`).children,
).map(el => el.getAttribute('data-comment-id'))"""


@pytest.mark.timeout(180)
def test_the_newest_comments_show_first_and_replies_read_oldest_first(page, w, site):  # noqa: F811
    """An article with more comments than the widget loads at once (200) shows its newest
    ones, newest at the top, and "Load more" brings the older ones below; the replies under
    a comment read as a conversation, oldest first, though they arrive newest first."""
    stack = w
    now = utcnow().replace(microsecond=0)
    top = [uuid.uuid4().hex for _ in range(230)]  # top[i] published i seconds after the first
    rows = [
        dict(
            id=cid,
            article_slug="talks",
            parent_id=None,
            author_name=f"Reader {i}",
            author_url=None,
            content=f"Comment {i}",
            published_at=now - timedelta(seconds=1000 - i),
        )
        for i, cid in enumerate(top)
    ]
    # three replies to the newest comment, published after it, in this order
    replies = [uuid.uuid4().hex for _ in range(3)]
    rows += [
        dict(
            id=cid,
            article_slug="talks",
            parent_id=top[-1],
            author_name=f"Replier {j}",
            author_url=None,
            content=f"Reply {j}",
            published_at=now - timedelta(seconds=500 - j),
        )
        for j, cid in enumerate(replies)
    ]
    _publish_only(stack, rows)
    page.goto(site.url("/talks.html"))
    expect(page.locator("[data-comment-id]")).to_have_count(200)
    shown = page.evaluate(TOP)
    assert shown[0] == top[-1]  # the newest at the top
    assert shown == list(reversed(top))[: len(shown)]
    assert top[0] not in shown  # the oldest waits for "Load more"
    assert page.evaluate(REPLIES, top[-1]) == replies
    page.locator(".p-more").click()
    expect(page.locator("[data-comment-id]")).to_have_count(len(rows))
    assert page.evaluate(TOP) == list(reversed(top))
    assert page.evaluate(REPLIES, top[-1]) == replies
    assert page.errors == []
