"""Registering an article from its page on first comment (docs/contract.md §3).

Called only when the intake's writer found no article for a comment's slug: comments on
known articles never come here, and never wait for a fetch. The steps, each refusing with
a sentence the API puts in its ``404`` (:class:`NotRegistered`):

1. ``PARLEY_SITE_ORIGINS`` is set, the comment carries ``article_url``, the slug is one
   an article may have, and ``article_url``'s origin is exactly one of the origins;
2. the same page (or the same slug and page) was not refused moments ago (a refusal is
   remembered :data:`REFUSAL_SECONDS` in Redis, so a flood of bogus slugs for a missing
   page costs one fetch);
3. one registration per slug at a time (a Redis lock): concurrent first comments wait
   for the first one's answer instead of fetching again;
4. the verifications per origin (``PARLEY_SITE_VERIFY_LIMIT``) and per client IP
   (:data:`PER_IP`) are within their limits;
5. the guarded fetch (:mod:`shared.sites.fetch`) answers 200 with HTML in time;
6. the page does not embed another article's comments (a ``data-parley-article`` naming
   another slug), and no other article has its URL (one article per page: bogus slugs
   cannot pile up on the site's home page);
7. the article is created, comments open and moderation ``auto``, with the page's title
   and canonical URL (:mod:`shared.sites.page`), by one statement that concurrent
   callers cannot double.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis as redis_lib
from limits import parse, parse_many

from shared.articles import create_article_if_absent, intake_article, slug_for_url, valid_slug
from shared.sites import page
from shared.sites.fetch import Refused, fetch, make_pool
from shared.sites.origins import origin_of
from shared.throttle import Counter

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)

REFUSAL_SECONDS = 60
# A registration's lock outlives its fetch by this much (the article's insert, a slow
# store); a waiter waits a second longer still, so a lock left by a process killed in the
# middle of a fetch expires while the next comment waits, and that comment registers.
LOCK_SLACK = 3.0
PER_IP = "10/minute"
MAX_BYTES = 1024 * 1024
_PREFIX = "parley:site"


class NotRegistered(Exception):
    """No article was registered; the message says why (the API's 404 detail)."""


@dataclass(frozen=True)
class Registered:
    slug: str
    title: str
    url: str
    created: bool  # False: it already existed (another comment registered it first)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SiteRegistrar:
    """A process's registrations: its guarded connections and the verification limits."""

    def __init__(self, settings):
        self.origins: tuple[str, ...] = tuple(settings.site_origins)
        self.timeout = float(settings.site_fetch_timeout)
        self.user_agent = f"Parley (article check; {settings.site_url})"
        raw = settings.site_verify_limit
        self.per_origin = [] if raw == "off" else parse_many(raw)
        self.per_ip = parse(PER_IP)
        self.counter = Counter(settings.redis_url, f"{_PREFIX}:verify", "site verification limit")
        self._pool = None

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    @property
    def pool(self):
        if self._pool is None:
            self._pool = make_pool(self.origins)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    # --- the steps --------------------------------------------------------------------

    def applies(self, slug: str, article_url: str | None) -> str | None:
        """Why this comment cannot register its article (step 1), or None if it may try."""
        if not self.enabled:
            return "articles are registered by the site (PARLEY_SITE_ORIGINS is not set)"
        if not article_url:
            return "send article_url, the URL of the page the comment is on, to register it"
        if not valid_slug(slug):
            return "a new article's slug may hold letters, digits, '-', '_' and '.' (1-200)"
        if origin_of(article_url) not in self.origins:
            return "article_url is not on one of the site's origins (PARLEY_SITE_ORIGINS)"
        return None

    def register(
        self,
        container: Container,
        slug: str,
        article_url: str | None,
        article_title: str | None,
        client_ip: str,
    ) -> Registered:
        """Register ``slug`` from its page (see the module docstring), or raise
        :class:`NotRegistered`. An article that exists by the time the lock is held (a
        concurrent first comment registered it) is returned as is."""
        why = self.applies(slug, article_url)
        if why:
            raise NotRegistered(why)
        assert article_url is not None
        remembered = self._remembered(container.redis, slug, article_url)
        if remembered:
            raise NotRegistered(remembered)
        lock = f"{_PREFIX}:lock:{slug}"
        token = self._acquire(
            container.redis,
            lock,
            wait=self.timeout + LOCK_SLACK + 1,
            container=container,
            slug=slug,
        )
        if token is None:
            existing = self._existing(container, slug)
            if existing:
                return existing
            remembered = self._remembered(container.redis, slug, article_url)
            raise NotRegistered(
                remembered or "the page is being checked for another comment; send again"
            )
        try:
            existing = self._existing(container, slug)
            if existing:
                return existing
            return self._verify_and_create(container, slug, article_url, article_title, client_ip)
        finally:
            self._release(container.redis, lock, token)

    def _verify_and_create(self, container, slug, article_url, article_title, client_ip):
        origin = origin_of(article_url)
        limits = [(self.per_ip, ("ip", client_ip or "unknown"))]
        limits += [(item, ("origin", origin)) for item in self.per_origin]
        take = self.counter.take(limits)
        if not take.taken:
            raise NotRegistered(
                f"too many new articles to check right now; send again in {take.retry_after} s"
            )
        started = time.monotonic()
        try:
            fetched = fetch(
                self.pool,
                article_url,
                timeout=self.timeout,
                max_bytes=MAX_BYTES,
                user_agent=self.user_agent,
            )
        except Refused as exc:
            raise self._refuse(container.redis, f"the page {exc}", article_url) from None
        facts = page.read_page(fetched.html)
        if facts.slugs and slug not in facts.slugs:
            raise self._refuse(
                container.redis,
                "the page embeds the comments of another article",
                article_url,
                slug,
            )
        url = page.choose_url(facts, fetched.url, self.origins)
        title = page.choose_title(facts, article_title, slug)
        url_lock = f"{_PREFIX}:url:{_digest(url)}"
        token = self._acquire(container.redis, url_lock, wait=3.0)
        try:
            with container.stores.articles_read() as session:
                other = slug_for_url(session, url)
            if other is not None and other != slug:
                raise self._refuse(
                    container.redis,
                    f"that page is already the article {other!r}",
                    article_url,
                    slug,
                )
            created = create_article_if_absent(
                container.stores.articles_engine, slug, {"title": title, "url": url}
            )
        finally:
            if token is not None:
                self._release(container.redis, url_lock, token)
        log.info(
            "article registered from its page" if created else "article registered meanwhile",
            extra={
                "article": slug,
                "url": url,
                "fetched_bytes": fetched.size,
                "seconds": round(time.monotonic() - started, 3),
            },
        )
        return Registered(slug, title, url, created)

    # --- Redis: refusals remembered, one registration per slug -----------------------------

    def _refuse(self, client, reason: str, url: str, slug: str | None = None) -> NotRegistered:
        """Remember a refusal (by page, or by slug and page when it is the slug's), and
        the error to raise."""
        key = f"{_PREFIX}:refused:" + (_digest(slug, url) if slug else _digest(url))
        try:
            client.set(key, reason, ex=REFUSAL_SECONDS)
        except (redis_lib.RedisError, OSError) as exc:
            log.warning("cannot remember a refused page", extra={"error": str(exc)})
        log.info("article not registered", extra={"url": url[:300], "reason": reason})
        return NotRegistered(reason)

    @staticmethod
    def _remembered(client, slug: str, url: str) -> str | None:
        keys = [f"{_PREFIX}:refused:{_digest(url)}", f"{_PREFIX}:refused:{_digest(slug, url)}"]
        try:
            found = [value for value in client.mget(keys) if value]
        except (redis_lib.RedisError, OSError):
            return None
        return f"{found[0]} (checked moments ago)" if found else None

    def _acquire(self, client, key: str, wait: float, container=None, slug=None) -> str | None:
        """A lock token, or None after ``wait`` seconds (or as soon as ``slug``'s article
        exists). Without Redis, a token that locks nothing: the insert still makes one
        article, only the fetch may be repeated."""
        token = secrets.token_hex(8)
        until = time.monotonic() + wait
        ttl = int((self.timeout + LOCK_SLACK) * 1000)
        while True:
            try:
                if client.set(key, token, nx=True, px=ttl):
                    return token
            except (redis_lib.RedisError, OSError):
                return token
            if time.monotonic() >= until:
                return None
            if container is not None and self._existing(container, slug):
                return None
            time.sleep(0.05)

    @staticmethod
    def _release(client, key: str, token: str) -> None:
        try:
            if client.get(key) == token:
                client.delete(key)
        except (redis_lib.RedisError, OSError):
            pass  # it expires

    @staticmethod
    def _existing(container, slug: str | None) -> Registered | None:
        found = intake_article(container.stores.articles_read_engine, slug)
        return Registered(slug, "", found[0], False) if found else None
