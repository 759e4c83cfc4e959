"""Articles registered from their pages on first comment (issue 25 item 2, docs/contract.md
§3), against a real web site on 127.0.0.1 (tests.support.site): what registers, what stays a
404 with the reason, what Parley never fetches, and concurrent first comments."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from shared.models import Article, Comment
from tests.support.factories import GOOD, put_article
from tests.support.site import Site, story_html

SLUG = "budget-vote"


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


@pytest.fixture
def other_site():
    server = Site()
    yield server
    server.close()


@pytest.fixture
def stack(make_container, site):
    """A container whose site is ``site`` (1 s to fetch a page), and its api client."""
    from services.api import create_app

    def build(**overrides):
        values = dict(site_origins=(site.origin,), site_fetch_timeout=1.0)
        values.update(overrides)
        container = make_container(**values)
        return container, create_app(container).test_client()

    return build


def post(client, slug: str, *, ip: str = "192.0.2.10", **fields):
    body = {**GOOD, **fields}
    return client.post(
        f"/api/v1/articles/{slug}/comments", json=body, environ_base={"REMOTE_ADDR": ip}
    )


def article(container, slug: str = SLUG) -> Article | None:
    with container.stores.articles() as session:
        found = session.get(Article, slug)
        if found is not None:
            session.expunge(found)
        return found


def comment_count(container) -> int:
    with container.stores.moderation() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Comment))


def refused(response, *words: str) -> str:
    assert response.status_code == 404, response.text
    assert response.mimetype == "application/problem+json"
    detail = response.get_json()["detail"]
    for word in words:
        assert word in detail, detail
    return detail


# --- what registers ---------------------------------------------------------------------


def test_a_first_comment_registers_the_article_from_its_page(stack, site, backend):
    container, client = stack()
    response = post(client, SLUG, article_url=site.url("/story/budget-vote?utm=x"))
    assert response.status_code == 202, response.text
    found = article(container)
    assert found.title == "Budget-Vote — The News"
    assert found.url == site.url("/story/budget-vote?utm=x")
    assert (found.comments_open, found.moderation) == (True, "auto")
    assert comment_count(container) == 1
    # The next comments find the article: no fetch.
    again = post(client, SLUG, content="Another view.", article_url=site.url("/story/budget-vote"))
    assert again.status_code == 202
    assert site.hits["/story/budget-vote"] == 1
    assert client.get(f"/api/v1/articles/{SLUG}").get_json()["title"] == "Budget-Vote — The News"


def test_the_canonical_url_and_a_title_the_page_agrees_with(stack, site):
    container, client = stack()
    site.page(
        "/a/1",
        story_html(
            "x",
            title="Budget vote passes — The News",
            og="Budget vote passes",
            canonical="/news/budget-vote#top",
        ),
    )
    response = post(client, SLUG, article_url=site.url("/a/1"), article_title="Budget vote passes")
    assert response.status_code == 202
    found = article(container)
    assert (found.title, found.url) == ("Budget vote passes", site.url("/news/budget-vote"))


def test_a_title_the_page_does_not_agree_with_is_not_used(stack, site):
    container, client = stack()
    site.page("/a/2", story_html("x", title="Budget vote passes — The News", og="Budget vote"))
    response = post(client, SLUG, article_url=site.url("/a/2"), article_title="FREE PRIZES")
    assert response.status_code == 202
    assert article(container).title == "Budget vote"  # the page's og:title


def test_a_canonical_link_off_the_site_is_not_used(stack, site):
    container, client = stack()
    site.page("/a/3", story_html("x", canonical="https://elsewhere.example/story"))
    assert post(client, SLUG, article_url=site.url("/a/3")).status_code == 202
    assert article(container).url == site.url("/a/3")


def test_a_redirect_on_the_same_origin_is_followed(stack, site):
    container, client = stack()
    site.page("/old", b"", status=301, content_type="text/html", Location="/story/moved")
    assert post(client, SLUG, article_url=site.url("/old")).status_code == 202
    assert article(container).url == site.url("/story/moved")


def test_a_huge_page_is_read_up_to_the_cap_only(stack, site):
    container, client = stack(site_fetch_timeout=3.0)
    started = time.monotonic()
    response = post(client, SLUG, article_url=site.url("/huge"))
    took = time.monotonic() - started
    assert response.status_code == 202, response.text
    assert article(container).title == "Huge — The News"
    time.sleep(0.3)  # the server notices the closed connection
    assert site.sent["/huge"] < 20 * 1024 * 1024, "the whole 20 MiB page was sent"
    assert took < 3


def test_the_known_article_path_never_fetches(stack, site, admin_client):
    container, client = stack()
    from services.dashboard import create_app

    admin = create_app(container).test_client()
    put_article(admin, SLUG, title="Budget", url="https://news.example/budget")
    response = post(client, SLUG, article_url=site.url("/story/anything"))
    assert response.status_code == 202
    assert sum(site.hits.values()) == 0


# --- what stays a 404, and says why -----------------------------------------------------


def test_without_the_setting_an_unknown_slug_stays_404(make_container, site):
    from services.api import create_app

    container = make_container()
    client = create_app(container).test_client()
    refused(post(client, SLUG, article_url=site.url("/story/budget-vote")), "no article")
    assert article(container) is None and comment_count(container) == 0
    assert sum(site.hits.values()) == 0
    assert client.get(f"/api/v1/articles/{SLUG}/form-token").status_code == 404


def test_without_article_url_an_unknown_slug_stays_404(stack, site):
    container, client = stack()
    refused(post(client, SLUG), "no article")
    assert article(container) is None and sum(site.hits.values()) == 0


@pytest.mark.parametrize(
    "path, words",
    [
        ("/missing", ["answered 404"]),
        ("/json", ["not an HTML page", "application/json"]),
        ("/slow", ["did not answer within 1 s"]),
        ("/drip", ["within 1 s"]),
        ("/other-embed", ["embeds the comments of another article"]),
        ("/away", ["redirects to another origin"]),
    ],
)
def test_a_page_that_does_not_vouch_is_a_404_with_the_reason(stack, site, other_site, path, words):
    container, client = stack()
    site.page("/json", b'{"title": "x"}', content_type="application/json")
    site.page("/other-embed", story_html("x", embeds="another-story"))
    site.page("/away", b"", status=302, Location=other_site.url("/story/budget-vote"))
    started = time.monotonic()
    detail = refused(post(client, SLUG, article_url=site.url(path)), *words)
    assert time.monotonic() - started < 2.5, "the fetch's deadline did not hold"
    assert "not registered" in detail
    assert article(container) is None and comment_count(container) == 0
    assert sum(other_site.hits.values()) == 0  # a redirect off the origin is never followed


def test_a_page_that_is_already_another_article_registers_nothing(stack, site):
    container, client = stack()
    assert post(client, "first", article_url=site.url("/story/one")).status_code == 202
    refused(
        post(client, "second", article_url=site.url("/story/one")), "already the article 'first'"
    )
    assert article(container, "second") is None


def test_refusals_are_remembered_so_bogus_slugs_do_not_hammer_the_site(stack, site):
    container, client = stack()
    for n in range(20):
        refused(post(client, f"bogus-{n}", article_url=site.url("/missing")), "answered 404")
    assert site.hits["/missing"] == 1
    assert "checked moments ago" in post(client, "bogus-x", article_url=site.url("/missing")).text


def test_verifications_are_rate_limited_per_origin(stack, site):
    container, client = stack(site_verify_limit="3/minute")
    for n in range(3):
        assert post(client, f"s{n}", article_url=site.url(f"/story/s{n}")).status_code == 202
    refused(post(client, "s3", article_url=site.url("/story/s3")), "too many new articles")
    assert site.hits["/story/s3"] == 0 and article(container, "s3") is None


def test_verifications_are_rate_limited_per_client_ip(stack, site):
    container, client = stack(site_verify_limit="off")
    for n in range(10):
        post(client, f"s{n}", ip="198.51.100.7", article_url=site.url(f"/story/s{n}"))
    refused(post(client, "s10", ip="198.51.100.7", article_url=site.url("/story/s10")), "too many")
    assert (
        post(client, "s11", ip="198.51.100.8", article_url=site.url("/story/s11")).status_code
        == 202
    )


# --- SSRF: Parley fetches the site's pages and nothing else ---------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "http://[::1]/",
        "file:///etc/passwd",
        "http://localhost/",
    ],
)
def test_article_url_off_the_configured_origins_is_never_fetched(stack, site, url):
    container, client = stack()
    response = post(client, SLUG, article_url=url)
    # A URL the field rules refuse is no article_url at all: the unknown slug's 404.
    detail = refused(response, "no article")
    if url.startswith("http"):
        assert "not on one of the site's origins" in detail
    assert article(container) is None and sum(site.hits.values()) == 0


def test_an_origin_whose_name_resolves_to_loopback_is_refused(make_container, site):
    """2130706433 is 127.0.0.1 written as one number: a host name, not an address
    literal, that the resolver turns into loopback. Configured as the site, it is still
    refused at the connection: only an origin written as a private address (or
    localhost) may be one."""
    from services.api import create_app

    origin = f"http://2130706433:{site.port}"
    container = make_container(site_origins=(origin,), site_fetch_timeout=1.0)
    client = create_app(container).test_client()
    refused(post(client, SLUG, article_url=origin + "/story/x"), "127.0.0.1 is a loopback address")
    assert sum(site.hits.values()) == 0


def test_localhost_configured_as_the_site_may_be_fetched(make_container, site):
    from services.api import create_app

    origin = f"http://localhost:{site.port}"
    container = make_container(site_origins=(origin,), site_fetch_timeout=1.0)
    client = create_app(container).test_client()
    assert post(client, SLUG, article_url=origin + "/story/x").status_code == 202


# --- the rest of the intake --------------------------------------------------------------


def test_field_errors_on_a_new_slug_are_a_422_and_fetch_nothing(stack, site):
    container, client = stack()
    response = post(client, SLUG, author_email="nope", article_url=site.url("/story/x"))
    assert response.status_code == 422
    assert "author_email" in response.get_json()["errors"]
    assert sum(site.hits.values()) == 0 and article(container) is None


def test_a_form_token_for_a_new_slug_when_pages_may_register(stack):
    container, client = stack()
    response = client.get(f"/api/v1/articles/{SLUG}/form-token")
    assert response.status_code == 200 and response.get_json()["form_token"]
    assert client.get("/api/v1/articles/bad%20slug/form-token").status_code == 404


@pytest.mark.timeout(120)
def test_concurrent_first_comments_make_one_article_and_keep_every_comment(stack, site, backend):
    container, client = stack(site_fetch_timeout=3.0)
    site.page("/story/busy", story_html("busy"))
    n = 12
    barrier = threading.Barrier(n)
    answers: list[int] = []

    def first(i: int) -> None:
        barrier.wait()
        response = post(
            client,
            "busy",
            ip=f"203.0.113.{i}",
            content=f"Comment number {'abcdefghijkl'[i]} on the new story.",
            author_email=f"reader{i}@example.org",
            article_url=site.url("/story/busy"),
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=first, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [202] * n
    with container.stores.articles() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Article)) == 1
    assert comment_count(container) == n
    assert site.hits["/story/busy"] == 1  # one fetch: the others waited for its answer


def test_a_registration_killed_mid_fetch_does_not_block_the_slug(stack, site, redis_client):
    """A process killed during its fetch leaves its lock behind (nothing else: the article
    is one insert after the fetch). The lock expires while the next comment waits."""
    from shared.sites.register import LOCK_SLACK

    container, client = stack(site_fetch_timeout=0.5)
    redis_client.set(f"parley:site:lock:{SLUG}", "dead-process", px=int((0.5 + LOCK_SLACK) * 1000))
    started = time.monotonic()
    response = post(client, SLUG, article_url=site.url("/story/budget-vote"))
    assert response.status_code == 202, response.text
    assert 0.5 + LOCK_SLACK - 0.5 < time.monotonic() - started < 0.5 + LOCK_SLACK + 2
    assert article(container) is not None and site.hits["/story/budget-vote"] == 1
