"""The WordPress and Disqus parsers (shared.imports): files built from the formats'
published definitions (bench.exports), read into records; bad files refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.exports import (
    DqPost,
    DqThread,
    WPComment,
    WPPost,
    disqus,
    write,
    wxr,
)
from shared.imports import records
from shared.imports.disqus import Disqus
from shared.imports.records import ArticleRecord, CommentRecord, Skipped
from shared.imports.wordpress import WordPress
from shared.imports.xmlstream import BadFile


def read(parser) -> tuple[object, list]:
    scan = parser.scan()
    try:
        return scan, list(parser.records())
    finally:
        getattr(parser, "close", lambda: None)()


def wp_file(tmp_path, posts, **kw):
    path = tmp_path / "export.xml"
    write(path, wxr(posts, **kw))
    return str(path)


STORY = "https://news.example/2021/03/talks/"


def test_wordpress_posts_comments_threads_and_statuses(tmp_path):
    comments = [
        WPComment(1, "First!", approved="1", date_gmt="2021-03-04 10:00:00"),
        # A child before its parent (3), two levels down from 1.
        WPComment(2, "Replying to 3", parent=3, approved="1"),
        WPComment(3, "Replying to 1", parent=1, approved="0"),
        WPComment(4, "Buy <b>cheap</b> pills", approved="spam", url="https://spam.example/"),
        WPComment(5, "Removed", approved="trash"),
        WPComment(6, "On a trashed post", approved="post-trashed"),
        WPComment(7, "pinged", type="pingback"),
        WPComment(8, "tracked", type="trackback"),
        WPComment(9, "Old style", type=""),
        WPComment(10, "a note", type="order_note"),
    ]
    posts = [
        WPPost(10, "talks", "Istanbul <talks> & more", STORY, comments),
        WPPost(11, "about", "About us", "https://news.example/about/", [], type="page"),
        WPPost(12, "draft", "A draft", "https://news.example/?p=12", [], status="draft"),
        WPPost(13, "logo", "logo.png", "https://news.example/logo/", [], type="attachment"),
        WPPost(
            14,
            "closed-one",
            "Closed",
            "https://news.example/closed-one/",
            [WPComment(20, "late", approved="1")],
            comment_status="closed",
        ),
    ]
    parser = WordPress(wp_file(tmp_path, posts))
    scan, out = read(parser)
    assert parser.site == "news.example"  # wp:base_site_url, read with the first post
    assert scan.comments == 11
    articles = [r for r in out if isinstance(r, ArticleRecord)]
    assert articles == [
        ArticleRecord("talks", "Istanbul <talks> & more", STORY, True),
        ArticleRecord("about", "About us", "https://news.example/about/", True),
        ArticleRecord("closed-one", "Closed", "https://news.example/closed-one/", False),
    ]
    # The article comes before its comments.
    assert out.index(articles[0]) < min(
        out.index(r) for r in out if isinstance(r, CommentRecord) and r.article == "talks"
    )
    got = {r.source_id: r for r in out if isinstance(r, CommentRecord)}
    assert {k: (v.status, v.parent_source_id) for k, v in got.items()} == {
        "1": ("published", None),
        "2": ("published", "3"),
        "3": ("held", "1"),
        "4": ("spam", None),
        "5": ("rejected", None),
        "6": ("rejected", None),
        "9": ("published", None),
        "20": ("published", None),
    }
    assert got["1"].created_at == datetime(2021, 3, 4, 10, 0, tzinfo=UTC)
    assert got["4"].content == "Buy cheap pills"  # the HTML as text
    assert got["4"].author_url == "https://spam.example/"
    assert (got["1"].author_name, got["1"].author_email, got["1"].user_ip) == (
        "Reader",
        "reader@example.org",
        "192.0.2.1",
    )
    assert got["1"].user_agent == "Mozilla/5.0"
    skipped = {r.source_id: r.why for r in out if isinstance(r, Skipped)}
    assert skipped == {"7": "pingback", "8": "trackback", "10": "comment type order_note"}


def test_wordpress_cdata_or_escaped_text_unicode_html_and_missing_fields(tmp_path):
    text = 'Zürich, Киев, 東京 — "quotes" & <a href="https://ref.example/x">a link</a>\n\nnew ]]> paragraph'
    comments = [
        WPComment(1, text, author="Zoë \u202eevil", email="", ip="not-an-ip", date_gmt=""),
        WPComment(2, "   ", approved="1"),  # empty once trimmed
        WPComment(3, "<p>one</p><p>two<br>three</p>", author="", url="javascript:alert(1)"),
        WPComment(4, "x" * 20_000 + "\x9bbell"),  # a C1 control: XML 1.0 carries it
    ]
    for use_cdata in (True, False):
        path = wp_file(
            tmp_path, [WPPost(1, "caf%c3%a9", "T", STORY, comments)], use_cdata=use_cdata
        )
        _, out = read(WordPress(path))
        assert out[0] == ArticleRecord("café", "T", STORY, True)  # the slug percent-decoded
        got = {r.source_id: r for r in out if isinstance(r, CommentRecord)}
        first = got["1"]
        assert first.content == (
            'Zürich, Киев, 東京 — "quotes" & a link (https://ref.example/x)\n\nnew ]]> paragraph'
        )
        assert first.author_name == "Zoë \u202eevil"  # kept as sent; pages balance it
        assert (first.author_email, first.user_ip, first.created_at) == ("", "", None)
        assert got["3"].content == "one\n\ntwo\nthree"
        assert got["3"].author_name == "Anonymous"
        assert got["3"].author_url is None
        assert got["4"].content == "x" * 20_000 + "bell"  # control characters dropped
        assert [r.why for r in out if isinstance(r, Skipped)] == ["empty"]


def test_wordpress_slug_falls_back_to_the_link_then_the_post_id(tmp_path):
    posts = [
        WPPost(1, "", "A", "https://news.example/2021/a-story/", [WPComment(1, "x")]),
        WPPost(2, "", "B", "https://news.example/?p=2", [WPComment(2, "y")]),
        WPPost(3, "", "C", "not a url", [WPComment(3, "z")]),
    ]
    _, out = read(WordPress(wp_file(tmp_path, posts)))
    assert [r.slug for r in out if isinstance(r, ArticleRecord)] == ["a-story", "post-2"]
    assert [(r.source_id, r.why) for r in out if isinstance(r, Skipped)] == [
        ("3", "its post has no usable link")
    ]


def dq_file(tmp_path, threads, posts):
    path = tmp_path / "disqus.xml"
    write(path, disqus(threads, posts))
    return str(path)


def test_disqus_threads_posts_and_statuses(tmp_path):
    threads = [
        DqThread("100", "talks", "https://news.example/talks/", "Talks"),
        DqThread("101", "", "https://news.example/2021/empty-id/", "No identifier"),
        DqThread("102", "42 https://news.example/?p=42", "https://news.example/p42/", "Spaces"),
        DqThread("103", "never", "https://news.example/never/", "No posts"),
        DqThread("104", "gone", "https://news.example/gone/", "Deleted", deleted=True),
        DqThread("105", "shut", "https://news.example/shut/", "Closed", closed=True),
    ]
    posts = [
        DqPost("2", "100", "<p>reply before its parent</p>", parent="1"),
        DqPost("1", "100", "<p>Hello <b>there</b></p><p>second</p>"),
        DqPost("3", "100", "spam!", spam=True),
        DqPost("4", "100", "deleted", deleted=True),
        DqPost("5", "101", "on the link's slug", name="", username="fallback"),
        DqPost("6", "102", "identifier with spaces"),
        DqPost("7", "104", "on a deleted thread"),
        DqPost("8", "104", "spam on a deleted thread", spam=True),
        DqPost("9", "105", "closed"),
        DqPost("10", "999", "thread unknown"),
    ]
    scan, out = read(Disqus(dq_file(tmp_path, threads, posts)))
    assert (scan.site, scan.comments) == ("news-example", 10)
    assert [r for r in out if isinstance(r, ArticleRecord)] == sorted(
        [
            ArticleRecord("talks", "Talks", "https://news.example/talks/", True),
            ArticleRecord("empty-id", "No identifier", "https://news.example/2021/empty-id/", True),
            ArticleRecord("p42", "Spaces", "https://news.example/p42/", True),
            ArticleRecord("gone", "Deleted", "https://news.example/gone/", True),
            ArticleRecord("shut", "Closed", "https://news.example/shut/", False),
        ],
        key=lambda a: a.slug,
    )
    got = {r.source_id: r for r in out if isinstance(r, CommentRecord)}
    assert {k: (v.article, v.status, v.parent_source_id) for k, v in got.items()} == {
        "2": ("talks", "published", "1"),
        "1": ("talks", "published", None),
        "3": ("talks", "spam", None),
        "4": ("talks", "rejected", None),
        "5": ("empty-id", "published", None),
        "6": ("p42", "published", None),
        "7": ("gone", "rejected", None),
        "8": ("gone", "spam", None),
        "9": ("shut", "published", None),
    }
    assert got["1"].content == "Hello there\n\nsecond"
    assert got["5"].author_name == "fallback"
    assert got["1"].created_at == datetime(2021, 3, 4, 10, 0, tzinfo=UTC)
    assert [r.source_id for r in out if isinstance(r, Skipped)] == ["10"]


def test_disqus_import_format_names_threads_and_parents_by_id(tmp_path):
    """Disqus's own import format names a post's thread and parent by ``<id>`` text."""
    path = tmp_path / "d.xml"
    path.write_text(
        '<?xml version="1.0"?><disqus xmlns="http://disqus.com" '
        'xmlns:dsq="http://disqus.com/disqus-internals">'
        '<thread dsq:id="2"><id>story</id><link>https://news.example/story</link>'
        "<title>S</title></thread>"
        '<post dsq:id="1"><id>2</id><message>Mother</message><thread>story</thread>'
        "<createdAt>2012-12-12T12:12:12</createdAt><author><name>Baz</name></author></post>"
        '<post><id>3</id><message>Child</message><parent>2</parent><thread dsq:id="2"/>'
        "<createdAt>2012-12-12T12:12:12</createdAt><author><name>Baz</name></author></post>"
        "</disqus>"
    )
    _, out = read(Disqus(str(path)))
    got = [r for r in out if isinstance(r, CommentRecord)]
    assert [(r.source_id, r.article, r.parent_source_id) for r in got] == [
        ("1", "story", None),
        ("id:3", "story", "id:2"),
    ]


SECRET = "TOP-SECRET-CONTENTS"
WXR_ROOT = b'<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">'


@pytest.mark.parametrize(
    ("parser", "data", "why"),
    [
        (WordPress, b"", "empty|not well-formed"),
        (WordPress, b"this is not xml", "not well-formed"),
        (WordPress, b'<rss version="2.0"><channel><item>', "not a WordPress export"),
        (WordPress, WXR_ROOT + b"<channel><item><title>cut here", "not well-formed"),
        (WordPress, b'<rss version="2.0"><channel></channel></rss>', "not a WordPress export"),
        (WordPress, b'<disqus xmlns="http://disqus.com"/>', "not a WordPress export"),
        (Disqus, b'<rss xmlns:wp="http://wordpress.org/export/1.2/"/>', "not a Disqus export"),
        (Disqus, b"<disqus/>", "not a Disqus export"),
        (Disqus, b'<disqus xmlns="http://disqus.com"><post>', "not well-formed"),
        (WordPress, WXR_ROOT + b"&undeclared;</rss>", "not well-formed"),
    ],
)
def test_a_bad_file_says_why(tmp_path, parser, data, why):
    path = tmp_path / "bad.xml"
    path.write_bytes(data)
    with pytest.raises(BadFile, match=why):
        read(parser(str(path)))


@pytest.mark.parametrize("parser", [WordPress, Disqus])
def test_entities_are_never_resolved(tmp_path, parser):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    root = (
        '<rss xmlns:wp="http://wordpress.org/export/1.2/">'
        if parser is WordPress
        else '<disqus xmlns="http://disqus.com">'
    )
    end = "</rss>" if parser is WordPress else "</disqus>"
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        f"{root}<channel><title>&xxe;</title></channel>{end}"
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f"{root}<channel><title>&c;</title></channel>{end}"
    )
    for data in (xxe, laughs):
        path = tmp_path / "evil.xml"
        path.write_text(data)
        with pytest.raises(BadFile, match="DTD") as caught:
            read(parser(str(path)))
        assert SECRET not in str(caught.value)


def test_a_missing_file_is_a_bad_file(tmp_path):
    with pytest.raises(BadFile, match="cannot read"):
        read(WordPress(str(tmp_path / "nowhere.xml")))


# --- the field clean-up, for any input ------------------------------------------------

XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\n\t<>&]]>\"'"),
    max_size=200,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=XML_TEXT,
    author=XML_TEXT,
    email=XML_TEXT,
    url=XML_TEXT,
    ip=XML_TEXT,
    date=XML_TEXT | st.just("2020-02-29 23:59:59"),
    approved=st.sampled_from(["1", "0", "spam", "trash", "post-trashed", "weird"]) | XML_TEXT,
    use_cdata=st.booleans(),
)
def test_any_wordpress_fields_are_read_as_the_clean_up_says(
    tmp_path, content, author, email, url, ip, date, approved, use_cdata
):
    comment = WPComment(7, content, author=author, email=email, url="", ip=ip, date_gmt=date)
    comment.approved = approved
    comment.url = url
    path = wp_file(tmp_path, [WPPost(1, "p", "P", STORY, [comment])], use_cdata=use_cdata)
    _, out = read(WordPress(path))
    got = [r for r in out if not isinstance(r, ArticleRecord)]
    assert len(got) == 1
    record = got[0]
    # What XML carries: line ends normalised, as any parser reads them.
    sent = content.replace("\r\n", "\n").replace("\r", "\n")
    if not records.text(sent):
        assert record == Skipped("7", "empty")
        return
    assert isinstance(record, CommentRecord)
    assert record.content == records.text(sent)
    assert record.author_name == (records.line(author, 100) or "Anonymous")
    assert len(record.author_name) <= 100
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in record.author_name)
    assert record.author_email == records.line(email.strip(), 254)
    assert record.user_ip == records.ip(ip)
    assert record.author_url == records.url(url.strip())
    assert record.status in records.IMPORT_STATUSES
    assert record.created_at is None or record.created_at.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_the_clean_up_never_fails_and_keeps_its_limits(value):
    body = records.text(value)
    assert "\x00" not in body and not any(ord(ch) < 32 and ch not in "\n\t" for ch in body)
    assert body == body.strip()
    one = records.line(value, 100)
    assert len(one) <= 100 and "\n" not in one
    address = records.url(value)
    assert address is None or address.startswith(("http://", "https://"))
    assert records.ip(value) in ("", value.strip())
    moment = records.moment(value)
    assert moment is None or moment.tzinfo is not None
    slug = records.pick_slug(value)
    assert slug == "" or records.valid_slug(slug)
