"""Which of a comment's links count toward the links limit, and why the others do not.

Many links are the commonest mark of link spam, but readers link too: to the article
they comment on, to the site's other pages, to Wikipedia, to a bug on GitHub, and a post
pasted from a mailing list carries the list's own footer. Those links promote nothing,
so they do not count toward ``PARLEY_MAX_LINKS``:

* the site's own hosts (``PARLEY_SITE_URL``'s host and the article's URL host);
* domains a moderator allowed (the ``allowed_domain`` list), subdomains included;
* :data:`REFERENCE_HOSTS`, a short built-in list of reference works and code hosts;
* one mailing-list page (:data:`LIST_PAGE_PATHS`: a Mailman list's information page or
  archive), the footer every post of such a list carries. One only: a path is the
  sender's to choose, so a spammer gains at most one uncounted link by imitating it.

Every other link counts, each distinct link once (shared.moderation.textcheck.find_links).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from shared.moderation import textcheck as tc

# Reference works, standards bodies and code hosts whose pages are written by
# communities or editors, not bought by advertisers: readers cite them as sources, and
# a spammer cannot put a landing page there (github.io, where anyone can, is not
# github.com). Kept short on purpose; a site adds its own in the allowed_domain list.
REFERENCE_HOSTS: frozenset[str] = frozenset(
    {
        "wikipedia.org",  # encyclopedias and their sister projects
        "wikimedia.org",
        "wiktionary.org",
        "wikidata.org",
        "doi.org",  # persistent identifiers of papers, and preprints
        "arxiv.org",
        "github.com",  # code, issues and pull requests
        "gitlab.com",
        "stackoverflow.com",  # questions and answers
        "stackexchange.com",
        "w3.org",  # web and internet standards
        "ietf.org",
        "rfc-editor.org",
    }
)

# Paths of mailing-list pages (GNU Mailman, the commonest list manager, and its
# archives): "https://lists.example.org/mailman/listinfo/users".
LIST_PAGE_PATHS: tuple[str, ...] = ("/mailman/listinfo", "/lists/listinfo", "/pipermail/")

# Why a link does not count, by kind, for the detail.
WHY = {
    "site": "this site",
    "allowed": "allowed",
    "reference": "reference",
    "list_page": "mailing-list page",
}


@dataclass(frozen=True)
class LinkCount:
    """The links that count, and those that do not with the kind of reason."""

    counted: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (host, kind of WHY)


def site_hosts(*urls: str | None) -> frozenset[str]:
    """The hosts of the site's own URLs (PARLEY_SITE_URL, an article's URL), lower case."""
    return frozenset(host for url in urls if url and (host := tc.link_host(url)))


def _path(link: str) -> str:
    rest = link.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:].casefold() if slash >= 0 else ""


def why_not_counted(
    link: str, host: str, site: Collection[str], allowed: Collection[str]
) -> str | None:
    """The kind of reason (a key of :data:`WHY`) ``link`` does not count, or None."""
    if tc.domain_matches(host, site):
        return "site"
    if tc.domain_matches(host, allowed):
        return "allowed"
    if tc.domain_matches(host, REFERENCE_HOSTS):
        return "reference"
    path = _path(link)
    if any(part in path for part in LIST_PAGE_PATHS):
        return "list_page"
    return None


def count_links(links: Iterable[str], site: Collection[str], allowed: Collection[str]) -> LinkCount:
    """Split ``links`` into those that count toward the limit and those that do not."""
    result = LinkCount()
    for link in links:
        host = tc.link_host(link)
        why = why_not_counted(link, host, site, allowed) if host else None
        if why == "list_page" and any(kind == why for _, kind in result.skipped):
            why = None
        if why is None:
            result.counted.append(link)
        else:
            result.skipped.append((host or link, why))
    return result


def not_counted(skipped: list[tuple[str, str]]) -> str:
    """ "not counted: en.wikipedia.org (reference), news.example (this site)"."""
    shown = tc.listing(f"{host} ({WHY[why]})" for host, why in skipped)
    return f"not counted: {shown}"


def too_many(
    links: Iterable[str], site: Collection[str], allowed: Collection[str], limit: int
) -> str | None:
    """The detail of the links rule when at least ``limit`` of ``links`` count, else None:
    the links that counted, then the hosts that did not and why."""
    count = count_links(links, site, allowed)
    if len(count.counted) < limit:
        return None
    shown = tc.listing(tc.display_link(link) for link in count.counted)
    skipped = f"; {not_counted(count.skipped)}" if count.skipped else ""
    return f"contains {len(count.counted)} links (limit {limit}): {shown}{skipped}"
