"""Directional controls in what readers send (issue 22 item 6): U+202E and its kind in a
name or a text must not reverse the text around it on the article page, in the dashboard's
cards, flashes and activity log; stored data and the JSON API stay as sent.

The article page isolates each name in ``<bdi>`` and drops the controls that would reach
past the end of their text (a real Unicode Bidirectional Algorithm is the judge, see
tests/support/bidi.py); the dashboard shows every control as a visible marker, so a
moderator sees what was sent and nothing on the page is reordered by it."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.db import session_scope
from shared.models import PublishedComment
from tests.support.bidi import TextNodes, contained, controls_in
from tests.support.factories import LINKS, held

SPOOF = "evil\u202etxt.exe"
HEBREW = "\u05d3\u05d5\u05d3 \u05db\u05d4\u05df"


def publish(container, slug: str, cid: str, name: str, content: str, url: str | None = None):
    with session_scope(container.stores.articles) as session:
        session.add(
            PublishedComment(
                id=cid,
                article_slug=slug,
                parent_id=None,
                author_name=name,
                author_url=url,
                content=content,
                published_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )


def test_article_page_isolates_names_and_cuts_off_a_spoof(client, container, article):
    publish(container, article, "a" * 32, SPOOF, "fine text \u202eand a tail")
    publish(
        container,
        article,
        "b" * 32,
        HEBREW,
        "\u05e9\u05dc\u05d5\u05dd",
        "https://x.example/\u202eb",
    )
    html = client.get(f"/articles/{article}").get_data(as_text=True)

    nodes = TextNodes(html).nodes
    leaking = [text for text, _ in nodes if not contained(text)]
    assert not leaking, f"text that reorders the page around it: {leaking!r}"
    assert ("eviltxt.exe", True) in nodes  # the name, in <bdi>, without its override
    assert (HEBREW, True) in nodes  # a right-to-left name, as written, isolated
    assert "fine text and a tail" in html
    assert not controls_in(html), "a control left in the page's markup"
    assert 'href="https://x.example/%E2%80%AEb"' in html  # the same address, encoded

    # Stored data and the JSON API are as the reader sent them.
    body = client.get(f"/api/v1/articles/{article}/comments").get_json()
    assert {c["author_name"] for c in body["comments"]} == {SPOOF, HEBREW}


def test_dashboard_shows_controls_as_markers_and_reorders_nothing(
    admin, container, client, article
):
    url = "https://evil.example/\u202egpj.exe"
    cid = held(
        container,
        client,
        article,
        1,
        author_name=SPOOF,
        author_url=url,
        content=LINKS + " \u2067hidden\u202e tail",
    )

    queue = admin.get("/admin/").get_data(as_text=True)
    card = queue[queue.index(f'id="c-{cid}"') :]
    card = card[: card.index("</article>")]
    assert not controls_in(queue), "a control reached the queue page"
    assert "<bdi>evil⟨U+202E⟩txt.exe</bdi>" in card
    assert "evil.example/⟨U+202E⟩gpj.exe" in card  # the link's text; its href is unchanged
    assert "⟨U+2067⟩hidden⟨U+202E⟩ tail" in card

    # A decision: the flash names the author, the activity log the comment.
    answer = admin.post_form(
        f"/admin/comments/{cid}/action",
        {"action": "approve", "note": "ok \u202eby me", "next": "/admin/queue/published"},
    )
    assert answer.status_code == 303
    published = admin.get("/admin/queue/published").get_data(as_text=True)
    assert not controls_in(published), "a control reached the published queue or its flash"
    assert "evil⟨U+202E⟩txt.exe" in published

    activity = admin.get("/admin/activity").get_data(as_text=True)
    assert not controls_in(activity), "a control reached the activity log"
    assert "<bdi>comment by evil⟨U+202E⟩txt.exe</bdi>" in activity
    assert "ok ⟨U+202E⟩by me" in activity


def test_list_entries_show_their_controls(admin):
    admin.post_form("/admin/settings/lists/block_word", {"value": "\u202ezorblax"})
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert not controls_in(page), "a control reached the settings page"
    assert "⟨U+202E⟩zorblax" in page
