"""Field rules of a submission (docs/contract.md §3), without HTTP."""

from __future__ import annotations

import sys
import unicodedata
import uuid

import pytest
from email_validator import EmailNotValidError, validate_email

from shared import validation
from shared.validation import ALLOWED_CONTROL, _control_chars, validate_comment

GOOD = {"author_name": "Olena", "author_email": "olena@example.org", "content": "Дякую за статтю."}


def errors_for(**fields):
    clean, errors = validate_comment({**GOOD, **fields})
    return errors


def test_good_comment_is_cleaned():
    clean, errors = validate_comment(
        {**GOOD, "author_name": "  Olena  ", "author_url": " https://olena.example/ "}
    )
    assert errors == {}
    assert clean.author_name == "Olena" and clean.author_url == "https://olena.example/"
    assert clean.honeypot is False and clean.form_token is None


@pytest.mark.parametrize("name", ["x" * 100, "Ü" * 100, "a"])
def test_name_length_bounds_ok(name):
    assert errors_for(author_name=name) == {}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there", "new\nline", "nul\x00"])
def test_name_rejected(name):
    assert "author_name" in errors_for(author_name=name)


def test_length_is_counted_after_trimming_and_nfc():
    # 100 "é" written decomposed (200 code points) are 100 characters once NFC-normalised
    assert errors_for(author_name="e\u0301" * 100) == {}
    assert errors_for(content="  " + "x" * 10_000 + "  ") == {}
    assert "content" in errors_for(content="x" * 10_001)


@pytest.mark.parametrize(
    "email", ["plain", "a@b", "a b@example.org", "@example.org", "x@" + "a" * 250 + ".org"]
)
def test_bad_emails(email):
    assert "author_email" in errors_for(author_email=email)


# Domains whose checks differ: case, IDNA in Unicode and in ASCII form, characters that
# UTS-46 remaps or refuses, a trailing dot, literals, and plain bad ones.
DOMAIN_CASES = [
    "olena@example.org",
    "Olena@EXAMPLE.Org",
    "olena@bücher.de",
    "olena@xn--bcher-kva.de",
    "用户@例子.广告",
    "olena@ｅｘａｍｐｌｅ.org",
    "olena@ﬁ.example",
    "olena@⒈.example",
    "olena@example.org.",
    "olena@-bad.example",
    "olena@ex_ample.org",
    "olena@localhost",
    "olena@[127.0.0.1]",
    "olena@" + "a" * 64 + ".org",
]


def _outcome(email):
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return "refused", str(exc)
    return checked.normalized, checked.ascii_email, checked.domain, checked.ascii_domain


@pytest.mark.parametrize("email", DOMAIN_CASES)
def test_remembered_domain_checks_answer_as_the_library_does(email, monkeypatch):
    first, again = _outcome(email), _outcome(email)  # the second from memory, if valid
    monkeypatch.setattr(
        validation._EMAIL_MODULE, "validate_email_domain_name", validation._check_domain.__wrapped__
    )
    assert first == again == _outcome(email)


def test_the_library_asks_the_remembered_domain_checks():
    # If a new email-validator stops calling the name this module replaces, the intake
    # silently loses its cache; this says so.
    domain = f"d{uuid.uuid4().hex}.example.org"  # new to the cache
    before = validation._check_domain.cache_info()
    for local in ("one", "two", "three"):
        assert errors_for(author_email=f"{local}@{domain}") == {}
    after = validation._check_domain.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)


def test_email_at_254_characters_is_fine_and_255_is_not():
    local = "a" * 64
    domain = ".".join(["b" * 60] * 3)  # 182 chars
    ok = f"{local}@{domain}"
    assert len(ok) <= 254 and errors_for(author_email=ok) == {}
    assert "author_email" in errors_for(author_email="a" * 255 + "@example.org")


@pytest.mark.parametrize(
    "url",
    ["ftp://x.org", "javascript:alert(1)", "//x.org", "http://", "https://x.org/a b", "x.org"],
)
def test_bad_urls(url):
    assert "author_url" in errors_for(author_url=url)


def test_empty_url_means_none():
    clean, errors = validate_comment({**GOOD, "author_url": ""})
    assert errors == {} and clean.author_url is None


def test_content_control_characters():
    assert errors_for(content="line one\nline two\n\ttabbed") == {}
    assert errors_for(content="windows\r\nnewlines") == {}
    message = errors_for(content="bell \x07 and escape \x1b")["content"][0]
    assert "U+0007" in message and "U+001B" in message


def test_control_characters_are_exactly_unicode_category_cc():
    """The scan finds every character Unicode calls a control (Cc) and nothing else."""
    controls = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cc"}
    text = "".join(chr(c) for c in range(0x0, 0x3000))
    expected = sorted(f"U+{ord(ch):04X}" for ch in controls)
    assert _control_chars(text) == expected
    assert _control_chars("a\nb\tc\x85", ALLOWED_CONTROL) == ["U+0085"]


def test_content_is_nfc():
    clean, _ = validate_comment({**GOOD, "content": "Cafe\u0301"})
    assert clean.content == "Café"


def test_non_string_values():
    errors = errors_for(author_name=["x"], content={"a": 1}, author_email=5)
    assert errors == {
        "author_name": ["must be a string"],
        "content": ["must be a string"],
        "author_email": ["must be a string"],
    }


def test_honeypot_and_token():
    clean, _ = validate_comment({**GOOD, "website": "http://bot", "form_token": " tok "})
    assert clean.honeypot is True and clean.form_token == "tok"


def test_parent_id_must_look_like_an_id():
    assert "parent_id" in errors_for(parent_id="../../etc")
    assert errors_for(parent_id="0123456789abcdef0123456789abcdef") == {}


def test_article_url_and_title_are_optional_and_cleaned():
    clean, errors = validate_comment(
        {**GOOD, "article_url": " https://news.example/a/1 ", "article_title": "  Cafe\u0301 "}
    )
    assert errors == {}
    assert clean.article_url == "https://news.example/a/1"
    assert clean.article_title == "Café"
    clean, errors = validate_comment({**GOOD, "article_url": "", "article_title": "  "})
    assert errors == {} and clean.article_url is None and clean.article_title is None


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"article_url": "javascript:alert(1)"}, "article_url"),
        ({"article_url": "ftp://news.example/a"}, "article_url"),
        ({"article_url": "https://news.example/" + "a" * 2030}, "article_url"),
        ({"article_url": "https://news.example/a b"}, "article_url"),
        ({"article_url": 7}, "article_url"),
        ({"article_title": "x" * 501}, "article_title"),
        ({"article_title": "line\nbreak"}, "article_title"),
        ({"article_title": ["a"]}, "article_title"),
    ],
)
def test_bad_article_fields(fields, field):
    assert field in errors_for(**fields)
