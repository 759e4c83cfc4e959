"""Disqus's XML export (namespace ``http://disqus.com``), read as a stream.

A ``<thread>`` becomes an article when at least one post is on it (an export lists every
page the embed ever loaded on, most without a comment): slug its ``<id>`` (the site's
identifier) when that is a valid slug, else the last path segment of its ``<link>``, else
the identifier made one; title ``<title>``, url ``<link>``, comments open unless
``<isClosed>``. A ``<post>`` becomes a comment: ``isSpam`` spam, ``isDeleted`` rejected,
otherwise published; on a deleted thread, rejected unless spam (nothing of a discussion
the site removed is shown again). Posts name their thread and parent by ``dsq:id``
attribute (Disqus's exports) or by the ``<id>`` text (its import format); both are read.

Posts come after the threads, and a post names its thread by id, so the threads are
kept while the posts are read: in a temporary SQLite file, not in memory (an export can
list hundreds of thousands of threads). The first reading (:meth:`Disqus.scan`) checks
the file and fills it; the second streams the posts.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from shared.imports import records
from shared.imports.records import ArticleRecord, CommentRecord, Skipped
from shared.imports.xmlstream import BadFile, Stream, drop, local, namespace

NAMESPACE = "http://disqus.com"
INTERNALS = "{http://disqus.com/disqus-internals}id"
_CACHE = 4096  # threads remembered in memory while the posts are read


@dataclass(frozen=True)
class Scan:
    site: str
    comments: int


def _top(element) -> bool:
    """Whether ``element`` is a child of the root (a thread, post or category itself, not
    a post's ``<thread>`` reference)."""
    parent = element.getparent()
    return parent is not None and parent.getparent() is None


def _true(value: str) -> bool:
    return value.strip().lower() == "true"


def _ref(element) -> str:
    """How a post names a thread, parent or itself: ``dsq:id`` attribute, else ``<id>``."""
    attribute = (element.get(INTERNALS) or "").strip()
    if attribute:
        return attribute
    text = (element.text or "").strip()
    return f"id:{text}" if text else ""


def _fields(element) -> dict[str, object]:
    fields: dict[str, object] = {}
    for child in element:
        name = local(child.tag)
        if name in ("author", "thread", "parent"):
            fields[name] = child
        else:
            fields[name] = child.text or ""
    return fields


class Threads:
    """Thread id -> article, in a temporary SQLite file with a small cache in front."""

    def __init__(self):
        handle, self.path = tempfile.mkstemp(prefix="parley-disqus-", suffix=".db")
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            "CREATE TABLE threads (ref TEXT PRIMARY KEY, slug TEXT, title TEXT, url TEXT, "
            "open INTEGER, deleted INTEGER, used INTEGER DEFAULT 0)"
        )
        self._cache: dict[str, tuple | None] = {}

    def add(self, refs: list[str], slug, title, url, open_: bool, deleted: bool) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO threads (ref, slug, title, url, open, deleted) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(ref, slug, title, url, int(open_), int(deleted)) for ref in refs],
        )

    def use(self, ref: str) -> None:
        self.db.execute("UPDATE threads SET used = 1 WHERE ref = ?", (ref,))

    def used(self) -> Iterator[ArticleRecord]:
        """The articles of threads with posts, each slug once (two threads that come to
        one slug: the first one's fields)."""
        last = None
        rows = self.db.execute(
            "SELECT slug, title, url, open FROM threads WHERE used = 1 ORDER BY slug, rowid"
        )
        for slug, title, url, open_ in rows:
            if slug != last:
                last = slug
                yield ArticleRecord(slug, title, url, bool(open_))

    def get(self, ref: str) -> tuple[str, bool] | None:
        """(slug, deleted) of a thread, or None."""
        if ref in self._cache:
            return self._cache[ref]
        row = self.db.execute("SELECT slug, deleted FROM threads WHERE ref = ?", (ref,)).fetchone()
        found = (row[0], bool(row[1])) if row else None
        if len(self._cache) >= _CACHE:
            self._cache.clear()
        self._cache[ref] = found
        return found

    def close(self) -> None:
        self.db.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class Disqus:
    """A Disqus export: :meth:`scan` checks it and reads the threads, :meth:`records`
    streams the articles (threads with posts) and then the posts."""

    format = "disqus"

    def __init__(self, path: str):
        self.path = path
        self.threads: Threads | None = None
        self.site: str | None = None  # the forum, known after scan()

    @staticmethod
    def _check_root(element) -> None:
        if local(element.tag) != "disqus" or namespace(element.tag) != NAMESPACE:
            raise BadFile(
                f"not a Disqus export: its root is <{local(element.tag) or '?'}>, "
                f'not <disqus xmlns="{NAMESPACE}">'
            )

    def scan(self, progress=None) -> Scan:
        """Read the whole file once, writing nothing but the temporary threads: the format,
        well-formedness, the threads and the number of posts."""
        forum = ""
        posts = 0
        self.close()
        self.threads = threads = Threads()
        tags = ["{*}thread", "{*}post", "{*}category"]
        with Stream(self.path) as stream:
            for event, element in stream.events(tags, self._check_root):
                if event == "start" or not _top(element):
                    continue
                name = local(element.tag)
                if name == "thread":
                    fields = _fields(element)
                    forum = forum or str(fields.get("forum", "")).strip()
                    self._add_thread(element, fields)
                elif name == "post":
                    posts += 1
                    thread = _fields(element).get("thread")
                    if thread is not None:
                        threads.use(_ref(thread))
                    if progress:
                        progress(stream.position, stream.size)
                elif name == "category":
                    forum = forum or str(_fields(element).get("forum", "")).strip()
                drop(element)
        threads.db.commit()
        self.site = forum
        return Scan(forum, posts)

    def _add_thread(self, element, fields) -> None:
        identifier = str(fields.get("id", "")).strip()
        link = str(fields.get("link", ""))
        slug = records.pick_slug(identifier, records.last_segment(link))
        refs = [ref for ref in (_ref(element), f"id:{identifier}" if identifier else "") if ref]
        found = records.article(slug, str(fields.get("title", "")), link, True)
        if refs and found is not None:
            assert self.threads is not None
            self.threads.add(
                refs,
                found.slug,
                found.title,
                found.url,
                not _true(str(fields.get("isClosed", ""))),
                _true(str(fields.get("isDeleted", ""))),
            )

    def records(self) -> Iterator[ArticleRecord | CommentRecord | Skipped]:
        if self.threads is None:
            self.scan()
        threads = self.threads
        assert threads is not None
        yield from threads.used()
        with Stream(self.path) as stream:
            for event, element in stream.events(["{*}post", "{*}thread", "{*}category"]):
                if event == "end" and _top(element):
                    if local(element.tag) == "post":
                        fields = _fields(element)
                        own = (element.get(INTERNALS) or "").strip()
                        if not own and str(fields.get("id", "")).strip():
                            own = "id:" + str(fields["id"]).strip()
                        yield _comment(fields, own, threads)
                    drop(element)

    def close(self) -> None:
        if self.threads is not None:
            self.threads.close()
            self.threads = None


def _comment(fields: dict, source_id: str, threads: Threads) -> CommentRecord | Skipped:
    if not source_id:
        return Skipped("", "no dsq:id")
    thread = fields.get("thread")
    found = threads.get(_ref(thread)) if thread is not None else None
    if found is None:
        return Skipped(source_id, "its thread is not in the file or has no usable link")
    slug, thread_deleted = found
    content = records.text(str(fields.get("message", "")))
    if not content:
        return Skipped(source_id, "empty")
    author = _fields(fields["author"]) if fields.get("author") is not None else {}
    spam = _true(str(fields.get("isSpam", "")))
    if spam:
        status = "spam"
    elif thread_deleted or _true(str(fields.get("isDeleted", ""))):
        status = "rejected"
    else:
        status = "published"
    parent = fields.get("parent")
    name = records.line(str(author.get("name", "")), records.MAX_NAME)
    return CommentRecord(
        source_id=source_id,
        parent_source_id=(_ref(parent) or None) if parent is not None else None,
        article=slug,
        status=status,
        author_name=name
        or records.line(str(author.get("username", "")), records.MAX_NAME)
        or records.ANONYMOUS,
        author_email=records.email(str(author.get("email", ""))),
        author_url=records.url(str(author.get("link", author.get("url", "")))),
        user_ip=records.ip(str(fields.get("ipAddress", ""))),
        user_agent=None,
        content=content,
        created_at=records.moment(str(fields.get("createdAt", ""))),
    )
