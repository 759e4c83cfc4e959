"""Which links count toward the links limit (shared.moderation.links)."""

from __future__ import annotations

import pytest

from shared.moderation import links as lk
from shared.moderation.textcheck import find_links


@pytest.mark.parametrize(
    ("link", "why"),
    [
        ("https://news.example/story", "site"),
        ("https://www.news.example/story", "site"),
        ("https://partner.example/a", "allowed"),
        ("https://en.wikipedia.org/wiki/Istanbul", "reference"),
        ("https://github.com/org/repo/pull/1", "reference"),
        ("https://www.rfc-editor.org/rfc/rfc9110", "reference"),
        ("https://lists.linux.ie/mailman/listinfo/ilug", "list_page"),
        ("http://mail.python.org/pipermail/python-list/2002-August/1.html", "list_page"),
        ("https://spam.example/buy", None),
        ("https://notwikipedia.org/x", None),
        ("https://wikipedia.org.spam.example/x", None),
        ("https://org.github.io/page", None),
    ],
)
def test_why_not_counted(link, why):
    host = lk.tc.link_host(link)
    assert lk.why_not_counted(link, host, {"news.example"}, {"partner.example"}) == why


def test_count_links_keeps_the_order_and_says_why():
    links = find_links(
        "https://a.example/1 https://en.wikipedia.org/wiki/X https://news.example/p "
        "https://b.example/2"
    )
    count = lk.count_links(links, {"news.example"}, ())
    assert count.counted == ["https://a.example/1", "https://b.example/2"]
    assert count.skipped == [("en.wikipedia.org", "reference"), ("news.example", "site")]
    assert lk.not_counted(count.skipped) == (
        "not counted: en.wikipedia.org (reference), news.example (this site)"
    )


def test_site_hosts_of_urls():
    assert lk.site_hosts("https://News.Example:8443/x") == frozenset({"news.example"})
    assert lk.site_hosts(None, "") == frozenset()
    assert lk.site_hosts("https://a.example/x", "http://b.example") == {"a.example", "b.example"}


def test_too_many_is_silent_below_the_limit():
    assert lk.too_many(["https://a.example"], (), (), 2) is None
    assert lk.too_many(["https://a.example", "https://b.example"], (), (), 2) == (
        "contains 2 links (limit 2): a.example, b.example"
    )


def test_reference_hosts_are_few_and_plain_domains():
    assert len(lk.REFERENCE_HOSTS) <= 20
    for host in lk.REFERENCE_HOSTS:
        assert host == host.casefold() and "." in host and "/" not in host
