"""WordPress's export (WXR: RSS 2.0 with the ``wp:`` elements), read as a stream.

A post (``<item>``) becomes an article: slug ``wp:post_name`` (percent-decoded; failing
that the last segment of its ``<link>``, then ``post-<wp:post_id>``), title ``<title>``,
url ``<link>``, comments open as ``wp:comment_status``. Published posts and pages are
imported as articles even without comments; any other item only when it has comments.
Each ``<wp:comment>`` becomes a comment; ``wp:comment_approved`` gives its status
(``1`` published, ``0`` held, ``spam`` spam, ``trash`` and ``post-trashed`` rejected).
Pingbacks and trackbacks (and other ``wp:comment_type``s plugins store as comments, such
as order notes) are skipped: they are not readers' words, and Parley has no place for them.

WordPress writes a post's own fields before its comments; the article is taken from what
precedes its first comment, so a post's comments are read one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.imports import records
from shared.imports.records import ArticleRecord, CommentRecord, Skipped
from shared.imports.xmlstream import BadFile, Stream, drop, local

WXR_NAMESPACE = "http://wordpress.org/export/"
STATUSES = {
    "1": "published",
    "approve": "published",
    "0": "held",
    "hold": "held",
    "spam": "spam",
    "trash": "rejected",
    "post-trashed": "rejected",
}
COMMENT_TYPES = ("", "comment")
ARTICLE_TYPES = ("post", "page")


@dataclass(frozen=True)
class Scan:
    """What the first reading found: how many comments there are (the site is read with
    the posts)."""

    site: str
    comments: int


def _fields(element) -> dict[str, str]:
    """{name: text} of the element's children; the ``wp:`` names without their prefix
    (whatever the WXR version's namespace), the others as they are (``title``, ``link``)."""
    fields = {}
    for child in element:
        tag = child.tag
        fields[_NAMES.get(tag) or _name(tag)] = child.text or ""
    return fields


_NAMES: dict[str, str] = {}


def _name(tag) -> str:
    if not isinstance(tag, str):
        return ""
    _NAMES[tag] = name = local(tag)
    return name


def site_of(address: str) -> str:
    """A site URL as the key of its imports: host and path, no scheme, no final '/'."""
    try:
        parts = urlsplit(address.strip())
    except ValueError:
        return address.strip()
    if not parts.hostname:
        return address.strip().rstrip("/")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return (host + parts.path).rstrip("/")


class WordPress:
    """A WXR file: :meth:`scan` checks all of it, :meth:`records` streams it."""

    format = "wordpress"

    def __init__(self, path: str):
        self.path = path
        self.site: str | None = None  # known once the first post is read

    @staticmethod
    def _check_root(tag: str, nsmap: dict) -> None:
        if local(tag) != "rss" or not any(
            (uri or "").startswith(WXR_NAMESPACE) for uri in nsmap.values()
        ):
            raise BadFile(
                f"not a WordPress export (WXR): its root is <{local(tag) or '?'}> "
                f"without the {WXR_NAMESPACE}… namespace"
            )

    def scan(self, progress=None) -> Scan:
        """Read the whole file once, building nothing and writing nothing: the format,
        well-formedness and the number of comments. :class:`BadFile` says what is wrong."""
        with Stream(self.path) as stream:
            comments = stream.count("}comment", self._check_root, progress)
        return Scan("", comments)

    def records(self) -> Iterator[ArticleRecord | CommentRecord | Skipped]:
        """The articles and comments of the file, in file order; an article comes before
        its comments."""
        item = None
        article: ArticleRecord | None = None
        seen = False  # whether the current item's article was decided
        with Stream(self.path) as stream:
            for event, element in stream.events(["item", "{*}comment", "{*}encoded"]):
                name = local(element.tag)
                if event == "start":
                    if name == "item":
                        item, article, seen = element, None, False
                        if self.site is None:  # the channel's own fields come first
                            self.site = _site(element.getparent())
                    continue
                if item is None:
                    continue
                if name == "comment" and element.getparent() is item:
                    if not seen:
                        seen, article = True, _article(_fields(item), with_comments=True)
                        if article is not None:
                            yield article
                    yield _comment(_fields(element), article)
                    drop(element)
                elif name == "item":
                    if not seen:
                        found = _article(_fields(item), with_comments=False)
                        if found is not None:
                            yield found
                    drop(element)
                    item = None
                elif name == "encoded" and element.getparent() is item:
                    drop(element)  # the post's body: never needed, possibly large


def _site(channel) -> str:
    """The site of the export: the channel's ``wp:base_site_url``, else its ``<link>``."""
    fields = _fields(channel) if channel is not None else {}
    return site_of(fields.get("base_site_url") or fields.get("link") or "")


def _article(fields: dict[str, str], *, with_comments: bool) -> ArticleRecord | None:
    if not with_comments and (
        fields.get("post_type", "post") not in ARTICLE_TYPES
        or fields.get("status", "publish") != "publish"
    ):
        return None
    post_id = fields.get("post_id", "").strip()
    slug = records.pick_slug(
        fields.get("post_name"),
        records.last_segment(fields.get("link")),
        f"post-{post_id}" if post_id else None,
    )
    return records.article(
        slug,
        fields.get("title"),
        fields.get("link"),
        fields.get("comment_status", "open").strip() != "closed",
    )


def _comment(fields: dict[str, str], article: ArticleRecord | None) -> CommentRecord | Skipped:
    source_id = fields.get("comment_id", "").strip()
    kind = fields.get("comment_type", "").strip()
    if not source_id:
        return Skipped("", "no wp:comment_id")
    if kind in ("pingback", "trackback"):
        return Skipped(source_id, kind)
    if kind not in COMMENT_TYPES:
        return Skipped(source_id, f"comment type {kind[:30]}")
    if article is None:
        return Skipped(source_id, "its post has no usable link")
    content = records.text(fields.get("comment_content"))
    if not content:
        return Skipped(source_id, "empty")
    parent = fields.get("comment_parent", "").strip()
    approved = fields.get("comment_approved", "").strip()
    return CommentRecord(
        source_id=source_id,
        parent_source_id=parent if parent not in ("", "0") else None,
        article=article.slug,
        status=STATUSES.get(approved, "held"),
        author_name=records.line(fields.get("comment_author"), records.MAX_NAME)
        or records.ANONYMOUS,
        author_email=records.email(fields.get("comment_author_email")),
        author_url=records.url(fields.get("comment_author_url")),
        user_ip=records.ip(fields.get("comment_author_IP")),
        user_agent=records.line(fields.get("comment_agent"), records.MAX_AGENT) or None,
        content=content,
        created_at=records.moment(fields.get("comment_date_gmt"))
        or records.moment(fields.get("comment_date")),
    )
