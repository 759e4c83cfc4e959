"""The comments widget (GET /embed.js, docs/contract.md §3) in a real browser, on a host page
of another origin than the api: threads, posting and moderation, field errors and the rate
limit, reports, the keyboard alone, hostile text, and a strict CSP with ``* { all: unset }``.
Screenshots in test-artifacts/screenshots/widget-*.png."""

from __future__ import annotations

import gzip
import json
import os
import statistics
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from services.api.embed import WIDGET
from shared.models import Comment, PublishedComment, utcnow
from shared.moderation import pipeline
from tests.browser.conftest import ADMIN_TOKEN, CHROMIUM, SCREENSHOTS, reset, screenshot, serve
from tests.browser.host_site import HostSite, article_page
from tests.support.stack import Running

pytestmark = pytest.mark.browser

LIMIT = 8  # comments a minute from one IP (PARLEY_RATE_LIMIT), the browser's and the seeds'
LINKS = "See http://a.example and http://b.example"  # two links: held for a moderator
XSS = "<img src=x onerror=alert(1)><script>window.__xss=1</script>"


@pytest.fixture(scope="module")
def site():
    host = HostSite()
    yield host
    host.close()


@pytest.fixture(scope="module")
def wstack(tmp_path_factory, site):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-browser")
    folder = tmp_path_factory.mktemp("widget")
    with Running(folder) as run:
        yield serve(
            run,
            folder,
            PARLEY_CORS_ORIGINS=site.origin,
            PARLEY_SITE_ORIGINS=site.origin,
            PARLEY_RATE_LIMIT=f"{LIMIT}/minute",
            # mail on (no deliver process runs, nothing is sent): the widget offers "notify"
            PARLEY_SMTP_URL="smtp://127.0.0.1:9",
        )


@pytest.fixture
def w(wstack, site):
    """Empty stores and Redis, the article "talks" at the host site's /talks.html."""
    reset(wstack, site.url("/talks.html"))
    site.page("/talks.html", article_page(wstack.api.url, url=site.url("/talks.html")))
    return wstack


def post(stack, content: str, parent: str | None = None, name: str = "Reader", **fields):
    body = {
        "author_name": name,
        "author_email": f"r{abs(hash(content + name))}@example.org",
        "content": content,
        **fields,
    }
    if parent:
        body["parent_id"] = parent
    return httpx.post(f"{stack.api.url}/api/v1/articles/talks/comments", json=body)


def approve(stack, cid: str) -> None:
    """A moderator approves, through the admin API (on the dashboard)."""
    response = httpx.post(
        f"{stack.dashboard.url}/api/v1/admin/comments/{cid}/actions",
        json={"action": "approve"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Parley-Actor": "mod@news.example"},
    )
    assert response.status_code == 200, response.text


def publish(stack, content: str, parent: str | None = None, **fields) -> str:
    """A comment posted over HTTP, checked in process as a worker would, approved if held."""
    response = post(stack, content, parent, **fields)
    assert response.status_code == 202, response.text
    cid = response.json()["id"]
    if pipeline.check_comment(stack.container, cid) == "held":
        approve(stack, cid)
    return cid


def newest_comment(stack) -> Comment:
    with stack.container.stores.moderation_read() as session:
        return session.query(Comment).order_by(Comment.created_at.desc()).first()


def shadow_focus(page) -> dict | None:
    """What has the focus inside the widget: tag, name, action and comment."""
    return page.evaluate(
        """() => {
            const el = document.getElementById('parley-comments').shadowRoot.activeElement;
            if (!el) return null;
            const c = el.closest('[data-comment-id]');
            return {tag: el.tagName.toLowerCase(), name: el.getAttribute('name'),
                    action: el.getAttribute('data-parley-action'),
                    notice: el.getAttribute('data-parley-notice'),
                    comment: c && c.getAttribute('data-comment-id')};
        }"""
    )


def assert_inert(page) -> None:
    assert page.dialogs == [], page.dialogs
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.errors == [], page.errors


def test_thread_of_three_levels_reply_moderated_and_shown_under_its_parent(page, w, site):
    stack = w
    first = publish(stack, "The talks resume on Monday, says the mediator.", name="Ana")
    second = publish(stack, "Which mediator? The article does not say.", first, name="Ben")
    third = publish(
        stack, "The one from the last round, named in paragraph two.", second, name="Cem"
    )
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(site.url("/talks.html"))
    for cid in (first, second, third):
        expect(page.locator(f'[data-comment-id="{cid}"]')).to_be_visible()
    # threaded: each reply inside its parent's element, saying whose it is
    expect(page.locator(f'[data-comment-id="{first}"] [data-comment-id="{second}"]')).to_have_count(
        1
    )
    nested = page.locator(f'[data-comment-id="{second}"] [data-comment-id="{third}"]')
    expect(nested).to_have_attribute("data-parent-id", second)
    expect(page.locator("#parley-heading")).to_have_text("3 comments")
    screenshot(page, "widget-thread")

    # a reader replies to the third level, remembered on this device
    page.locator(f'[data-comment-id="{third}"] [data-parley-action="reply"]').first.click()
    form = page.locator(f'[data-comment-id="{third}"] form')
    expect(form.locator('[name="author_name"]')).to_be_focused()
    form.locator('[name="author_name"]').fill("Dilek")
    form.locator('[name="author_email"]').fill("dilek@example.org")
    form.locator('[name="content"]').fill(f"Paragraph two, yes. {LINKS}")
    form.locator('[name="remember"]').check()
    form.locator('[name="notify"]').check()
    with page.expect_response("**/comments") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 202
    sent = answer.value.request
    assert sent.headers["idempotency-key"] and "cookie" not in sent.headers
    assert sent.post_data_json["parent_id"] == third
    assert sent.post_data_json["notify"] is True
    assert sent.post_data_json["article_url"] == site.url("/talks.html")
    assert sent.post_data_json["article_title"] == "Talks resume"
    notice = page.locator(f'[data-comment-id="{third}"] [data-parley-notice="pending"]')
    expect(notice).to_be_visible()
    expect(notice).to_be_focused()
    screenshot(page, "widget-pending")

    reply = newest_comment(stack)
    assert reply.parent_id == third and reply.author_name == "Dilek" and reply.notify
    assert reply.form_token_status != "missing"  # the widget fetched and sent a form token
    assert pipeline.check_comment(stack.container, reply.id) == "held"
    approve(stack, reply.id)

    page.reload()
    shown = page.locator(f'[data-comment-id="{third}"] [data-comment-id="{reply.id}"]')
    expect(shown).to_be_visible()
    expect(shown).to_have_attribute("data-parent-id", third)
    expect(page.locator("#parley-heading")).to_have_text("4 comments")
    # remembered (opt-in): name and e-mail are filled in; no cookie was set on either origin
    main = page.locator(".p-main form")
    expect(main.locator('[name="author_name"]')).to_have_value("Dilek")
    expect(main.locator('[name="author_email"]')).to_have_value("dilek@example.org")
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.getItem('parley:reader')").count("commenter") == 0
    stored = page.evaluate("JSON.parse(localStorage.getItem('parley:reader'))")
    assert stored["author_name"] == "Dilek" and stored["token"]
    screenshot(page, "widget-approved-reply")

    # the reader's next comment carries the commenter token the first one was given
    main.locator('[name="content"]').fill("And one more thought.")
    with page.expect_response("**/comments") as answer:
        main.locator('button[type="submit"]').click()
    assert answer.value.status == 202
    assert answer.value.request.headers["commenter-token"] == stored["token"]
    # no request to any host but the page's and the comments host
    assert all(url.startswith((site.origin + "/", stack.api.url + "/")) for url in requested)
    assert any(url.startswith(stack.api.url + "/api/v1/") for url in requested)
    assert_inert(page)


def test_comments_closed_while_the_page_is_open(page, w, site):
    stack = w
    first = publish(stack, "Said before the comments closed.", name="Ana")
    page.goto(site.url("/talks.html"))
    expect(page.locator(f'[data-comment-id="{first}"]')).to_be_visible()
    closed = httpx.put(
        f"{stack.dashboard.url}/api/v1/admin/articles/talks",
        json={"title": "Talks resume", "url": site.url("/talks.html"), "comments_open": False},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert closed.status_code == 200, closed.text
    form = page.locator(".p-main form")
    form.locator('[name="author_name"]').fill("Ayşe")
    form.locator('[name="author_email"]').fill("ayse@example.org")
    form.locator('[name="content"]').fill("Too late?")
    with page.expect_response("**/comments") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 403
    expect(form.locator(".p-msg")).to_have_text("Comments are closed on this article.")
    expect(page.locator('[data-parley-action="reply"]')).to_be_hidden()
    page.reload()  # closed from the start: no form, no Reply, Report still there
    expect(page.locator(".p-main")).to_have_text("Comments are closed on this article.")
    expect(
        page.locator(f'[data-comment-id="{first}"] [data-parley-action="report"]')
    ).to_be_visible()
    expect(page.locator('[data-parley-action="reply"]')).to_be_hidden()
    assert page.errors == []


def test_field_errors_rate_limit_and_the_same_key_on_retry(page, w, site):
    stack = w
    page.goto(site.url("/talks.html"))
    form = page.locator(".p-main form")
    expect(form).to_be_visible()
    form.locator('[name="author_email"]').fill("not an address")
    form.locator('[name="content"]').fill("Hello from the widget")
    with page.expect_response("**/comments") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 422
    name = form.locator('[name="author_name"]')
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    expect(form.locator(".p-f-author_name .p-err")).to_have_text("Name is required")
    expect(form.locator(".p-f-author_email .p-err")).to_contain_text("E-mail is not a valid")
    expect(form.locator(".p-f-content .p-err")).to_be_hidden()
    screenshot(page, "widget-422")

    for n in range(LIMIT):  # this IP's allowance, used up by other posts
        assert post(stack, f"Filler comment {'x' * n}").status_code == 202
    name.fill("Ayşe")
    form.locator('[name="author_email"]').fill("ayse@example.org")
    keys = []
    page.on(
        "request",
        lambda r: keys.append(r.headers.get("idempotency-key")) if r.method == "POST" else None,
    )
    for _ in range(2):  # the same body twice: one attempt, retried with its key
        with page.expect_response("**/comments") as answer:
            form.locator('button[type="submit"]').click()
        assert answer.value.status == 429
    message = form.locator(".p-msg")
    expect(message).to_contain_text("You are posting too quickly. Please wait")
    expect(message).to_contain_text("second")
    assert name.get_attribute("aria-invalid") is None  # the earlier errors are gone
    form.locator('[name="content"]').fill("Hello from the widget, edited")
    with page.expect_response("**/comments") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 429
    assert len(keys) == 3 and keys[0] == keys[1] and keys[2] != keys[0], keys
    screenshot(page, "widget-429")
    assert page.errors == []


def test_keyboard_only_reply_and_escape(page, w, site):
    stack = w
    first = publish(stack, "A first comment to answer by keyboard.", name="Ana")
    second = publish(stack, "A second comment.", name="Ben")
    page.goto(site.url("/talks.html"))
    expect(page.locator(f'[data-comment-id="{second}"]')).to_be_visible()

    def tab_to(action: str, comment: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            at = shadow_focus(page)
            if at and at["action"] == action and at["comment"] == comment:
                return
        raise AssertionError(f"Tab never reached {action} of {comment}")

    tab_to("reply", first)
    page.keyboard.press("Enter")
    assert shadow_focus(page)["name"] == "author_name"  # focus moves into the reply form
    reply = page.locator(f'[data-comment-id="{first}"] [data-parley-action="reply"]').first
    expect(reply).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(page.locator(f'[data-comment-id="{first}"] form')).to_have_count(0)
    assert shadow_focus(page) == {
        "tag": "button",
        "name": None,
        "action": "reply",
        "notice": None,
        "comment": first,
    }
    expect(reply).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")  # open again and write the reply with the keyboard alone
    page.keyboard.type("Kemal")
    page.keyboard.press("Tab")
    page.keyboard.type("kemal@example.org")
    page.keyboard.press("Tab")  # the optional website
    page.keyboard.press("Tab")
    page.keyboard.type("Answered without a mouse.")
    for _ in range(3):  # past the honeypot (never focused) and "remember me" to the button
        page.keyboard.press("Tab")
        if (shadow_focus(page) or {}).get("tag") == "button":
            break
    screenshot(page, "widget-keyboard-reply")
    with page.expect_response("**/comments") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 202
    expect(
        page.locator(f'[data-comment-id="{first}"] [data-parley-notice="pending"]')
    ).to_be_focused()
    assert newest_comment(stack).parent_id == first

    tab_to("report", second)  # the report panel: radios first, Escape closes it
    page.keyboard.press("Enter")
    assert shadow_focus(page)["name"] == "reason"
    page.keyboard.press("Escape")
    assert shadow_focus(page)["action"] == "report"
    assert page.errors == []


def test_hostile_text_in_every_field_stays_inert(page, w, site):
    stack = w
    hostile = publish(
        stack,
        f"{XSS} & <b>bold</b>",
        name='<img src=y onerror=alert(2)>"',
        author_url='https://x.example/?"><img/src=x/onerror=alert(3)>',
    )
    site.page(
        "/hostile.html",
        article_page(
            stack.api.url,
            title='Talks "<img src=t onerror=alert(4)>',
            url="javascript:alert(5)",
        ),
    )
    page.goto(site.url("/hostile.html"))
    card = page.locator(f'[data-comment-id="{hostile}"]')
    expect(card.locator(".p-text")).to_have_text(f"{XSS} & <b>bold</b>")
    expect(card.locator(".p-author")).to_have_text('<img src=y onerror=alert(2)>"')
    link = card.locator(".p-author a")
    assert link.get_attribute("href").startswith("https://x.example/?")
    form = page.locator(".p-main form")
    for field in ("author_name", "author_email", "author_url", "content"):
        form.locator(f'[name="{field}"]').fill(XSS)
    with page.expect_response("**/comments") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 422  # the e-mail and website are not valid; the errors are text
    body = answer.value.request.post_data_json
    assert "article_url" not in body  # javascript: is not a page URL
    assert "notify" not in body  # not ticked
    assert body["article_title"] == 'Talks "<img src=t onerror=alert(4)>'
    form.locator('[name="author_email"]').fill("mallory@example.org")
    form.locator('[name="author_url"]').fill("")
    with page.expect_response("**/comments") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 202
    expect(page.locator('[data-parley-notice="pending"]')).to_be_visible()
    stored = newest_comment(stack)
    assert stored.author_name == XSS and stored.content == XSS
    # nothing ran, and nothing the readers wrote became an element
    counts = page.evaluate(
        """() => {
            const r = document.getElementById('parley-comments').shadowRoot;
            return [r.querySelectorAll('img, script, b, iframe').length,
                    document.querySelectorAll('img, iframe').length];
        }"""
    )
    assert counts == [0, 0]
    screenshot(page, "widget-hostile")
    assert_inert(page)


def test_strict_csp_and_all_unset_on_the_host_page(page, w, site):
    stack = w
    publish(stack, "Readable despite the host's CSS.", name="Ana")
    csp = (
        f"default-src 'none'; script-src {stack.api.url}; connect-src {stack.api.url}; "
        f"style-src {site.origin}; base-uri 'none'; form-action 'none'"
    )
    site.page("/host.css", "* { all: unset !important; } body { display: block; }", "text/css")
    site.page(
        "/strict.html",
        article_page(
            stack.api.url,
            url=site.url("/strict.html"),
            head='<link rel="stylesheet" href="/host.css">',
        ),
        **{"Content-Security-Policy": csp},
    )
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(site.url("/strict.html"))
    expect(page.get_by_text("Readable despite the host's CSS.")).to_be_visible()
    button = page.locator('.p-main button[type="submit"]')
    expect(button).to_be_visible()
    # the widget's own stylesheet applies (a constructed sheet, not governed by style-src)
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 87, 208)"
    assert (
        page.locator(".p-main form label").first.evaluate("l => getComputedStyle(l).display")
        == "block"
    )
    form = page.locator(".p-main form")
    form.locator('[name="author_name"]').fill("Ayşe")
    form.locator('[name="author_email"]').fill("ayse@example.org")
    form.locator('[name="content"]').fill("Posted under a strict CSP.")
    button.click()
    expect(page.locator('[data-parley-notice="pending"]')).to_be_visible()
    screenshot(page, "widget-strict-csp")
    assert violations == [], violations
    assert page.errors == []


def test_deep_thread_stays_readable_on_a_phone(browser, w, site):
    stack = w
    parent = None
    ids = []
    for depth in range(7):
        parent = publish(stack, f"Level {depth} of a long argument, word {'w' * depth}.", parent)
        ids.append(parent)
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(site.url("/talks.html"))
        deepest = phone.locator(f'[data-comment-id="{ids[-1]}"] .p-text').first
        expect(deepest).to_be_visible()
        box = deepest.bounding_box()
        # the indent stops after the first level in a narrow widget: the text keeps its width
        assert box["x"] < 60 and box["width"] > 250, box
        expect(phone.locator(f'[data-comment-id="{ids[-1]}"] .p-to')).to_be_visible()
        phone.locator(f'[data-comment-id="{ids[-1]}"]').scroll_into_view_if_needed()
        screenshot(phone, "widget-phone-deep-thread")
    finally:
        context.close()


def test_first_comment_from_the_widget_registers_an_unknown_article(page, w, site):
    """PARLEY_SITE_ORIGINS (issue 25 item 2): the widget on a page of an allowed origin
    whose slug Parley does not know yet shows an empty thread and a form; the first comment
    registers the article from the page itself (its title read by Parley)."""
    stack = w
    url = site.url("/2026/new-story.html")
    site.page(
        "/2026/new-story.html",
        article_page(stack.api.url, slug="new-story", title="A new story", url=url),
    )
    api = f"{stack.api.url}/api/v1/articles/new-story"
    assert httpx.get(api).status_code == 404
    page.goto(url)
    expect(page.locator(".p-status")).to_have_text("No comments yet.")
    form = page.locator(".p-main form")
    form.locator('[name="author_name"]').fill("Ayşe")
    form.locator('[name="author_email"]').fill("ayse@example.org")
    form.locator('[name="content"]').fill("The first word on a new story.")
    with page.expect_response("**/comments") as answer:
        form.locator('button[type="submit"]').click()
    assert answer.value.status == 202, answer.value.text()
    assert answer.value.request.post_data_json["article_url"] == url
    expect(page.locator('[data-parley-notice="pending"]')).to_be_visible()
    article = httpx.get(api)
    assert article.status_code == 200
    assert article.json()["title"] == "A new story" and article.json()["url"] == url
    assert page.errors == []


def test_demo_article_page_uses_the_widget_and_works_without_javascript(browser, w):
    stack = w
    publish(stack, "Seen in the widget and without it.", name="Ana")
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        tab = context.new_page()
        tab.goto(f"{stack.api.url}/articles/talks")
        expect(tab.locator(".p-main form")).to_be_visible()
        expect(tab.get_by_text("Seen in the widget and without it.")).to_have_count(1)
        expect(tab.locator("form.comment-form")).to_have_count(0)  # the fallback is replaced
        screenshot(tab, "widget-demo-page")
    finally:
        context.close()
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"{stack.api.url}/articles/talks")
        expect(tab.locator("form.comment-form")).to_be_visible()
        expect(tab.get_by_text("Seen in the widget and without it.")).to_be_visible()
    finally:
        context.close()


def insert_published(stack, count: int) -> list[str]:
    """``count`` published comments on "talks", straight into the article store (what the
    widget reads), oldest first; every fourth a reply to the one before it."""
    now = utcnow().replace(microsecond=0)
    rows = []
    for n in range(count):
        parent = rows[-1]["id"] if n % 4 == 3 else None
        rows.append(
            dict(
                id=uuid.uuid4().hex,
                article_slug="talks",
                parent_id=parent,
                author_name=f"Reader {n}",
                author_url=None,
                content=f"Comment {n}: a few sentences of an ordinary length. " * 3,
                published_at=now - timedelta(seconds=count - n),
            )
        )
    engine = sa.create_engine(stack.database_url)
    with engine.begin() as conn:
        conn.execute(sa.insert(PublishedComment), rows)
    engine.dispose()
    return [row["id"] for row in rows]


# In the page, after the widget's marks: from the request for embed.js and from the script's
# start to the first mark with 200 comments rendered, and the requests to the comments host.
MEASURE = """api => {
  const done = performance.getEntriesByName('parley:rendered').find(m => m.detail.comments >= 200);
  const start = performance.getEntriesByName('parley:start')[0];
  const resources = performance.getEntriesByType('resource').filter(r => r.name.startsWith(api));
  const script = resources.find(r => r.name.endsWith('/embed.js'));
  return {from_request: done.startTime - script.startTime, from_start: done.startTime - start.startTime,
          requests: resources.length, urls: resources.map(r => r.name.slice(api.length))};
}"""


@pytest.mark.timeout(180)
def test_figure_time_to_first_200_comments(browser, w, site, capsys):
    stack = w
    insert_published(stack, 230)
    runs = []
    for _ in range(5):
        context = browser.new_context(viewport={"width": 1280, "height": 860})  # a cold cache
        try:
            tab = context.new_page()
            tab.goto(site.url("/talks.html"))
            expect(tab.locator("[data-comment-id]")).to_have_count(200, timeout=20_000)
            expect(tab.locator(".p-more")).to_have_text("Load more comments (30 more)")
            runs.append(tab.evaluate(MEASURE, stack.api.url))
            if len(runs) == 1:
                tab.locator(".p-more").click()  # "load more" through the cursor
                expect(tab.locator("[data-comment-id]")).to_have_count(230)
                expect(tab.locator(".p-more")).to_be_hidden()
        finally:
            context.close()
    # embed.js, the article, two pages of comments and a form token
    assert {run["requests"] for run in runs} == {5}, runs[0]["urls"]
    raw = WIDGET.read_bytes()
    figures = {
        "embed_js_bytes": len(raw),
        "embed_js_gzip_bytes": len(gzip.compress(raw, compresslevel=9)),
        "first_200_ms_from_request": statistics.median(r["from_request"] for r in runs),
        "first_200_ms_from_script_start": statistics.median(r["from_start"] for r in runs),
        "runs_ms_from_request": [round(r["from_request"], 1) for r in runs],
        "requests": runs[0]["requests"],
        "request_paths": runs[0]["urls"],
        "loadavg": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "widget-figures.json").write_text(json.dumps(figures, indent=2))
    with capsys.disabled():
        print(
            f"\nFIGURE widget: embed.js {figures['embed_js_bytes']:,} B raw, "
            f"{figures['embed_js_gzip_bytes']:,} B gzipped; first 200 comments rendered "
            f"{figures['first_200_ms_from_request']:.0f} ms after the request for embed.js "
            f"({figures['first_200_ms_from_script_start']:.0f} ms after the script started), "
            f"median of 5, {figures['requests']} requests; load {figures['loadavg']}"
        )


def test_dark_default_and_theming_through_custom_properties(page, w, site):
    stack = w
    publish(stack, "Themes and schemes.", name="Ana")
    page.emulate_media(color_scheme="dark")
    page.goto(site.url("/talks.html"))
    box = page.locator(".parley")
    button = page.locator('.p-main button[type="submit"]')
    expect(button).to_be_visible()
    assert box.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(27, 28, 31)"
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(138, 180, 248)"
    screenshot(page, "widget-dark")
    # the host sets --parley-* on the element; they pass into the shadow root
    page.evaluate(
        """() => {
            const host = document.getElementById('parley-comments');
            host.style.setProperty('--parley-accent', '#7a1f5c');
            host.style.setProperty('--parley-bg', '#fffdf5');
        }"""
    )
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"
    assert box.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 253, 245)"
    assert page.errors == []
