"""Articles registered from the site's own pages (issue 25 item 2, docs/contract.md §3).

With ``PARLEY_SITE_ORIGINS`` set, the first comment on a slug Parley does not know may
register its article: the widget sends the page's ``article_url`` (and its title), and
Parley fetches that page itself, on one of the configured origins only, through a guarded
connection, before creating the article.

* :mod:`~shared.sites.origins`: what an origin is, and which URLs are on one (pure);
* :mod:`~shared.sites.page`: what a fetched page says (title, canonical URL) (pure);
* :mod:`~shared.sites.fetch`: the guarded fetch (addresses, redirects, size, time);
* :mod:`~shared.sites.register`: the whole registration, with its caches and limits.
"""
