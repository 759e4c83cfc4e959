"""The commenter key and the host site's author token (shared.commenter), without I/O."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from itsdangerous import URLSafeSerializer

from shared import commenter, formtoken

SECRET = "parley-secret"
HOST = "host-secret"
NOW = 1_800_000_000


def test_a_token_carries_its_key_and_only_ours_are_read():
    key_id = commenter.key_id_for(SECRET, "comment-1")
    token = commenter.issue(SECRET, key_id)
    assert commenter.read(SECRET, token) == key_id
    assert commenter.read("another secret", token) is None
    assert commenter.read(SECRET, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    for bad in (None, "", "x" * 1000, "garbage", commenter.issue(SECRET, "")):
        assert commenter.read(SECRET, bad) is None


def test_tokens_are_itsdangerous_url_safe_tokens_written_without_compression():
    """The serializer skips the zlib attempt (its cost, not its result): every token is
    the one itsdangerous's own URL-safe serializer writes, and it reads tokens both ways."""
    theirs = URLSafeSerializer(SECRET, salt=commenter.SALT)
    for number in range(2000):
        key_id = commenter.key_id_for(SECRET, f"comment-{number}")
        token = commenter.issue(SECRET, key_id)
        assert token == theirs.dumps({"k": key_id})
        assert not token.startswith(".")
    compressed = theirs.dumps({"k": "a" * 200})  # deflate shortens this one
    assert compressed.startswith(".")
    assert commenter.read(SECRET, compressed) == "a" * 200


def test_new_keys_are_unguessable_and_stable_per_comment():
    one = commenter.key_id_for(SECRET, "comment-1")
    assert one == commenter.key_id_for(SECRET, "comment-1")  # a replay gets the same
    assert one != commenter.key_id_for(SECRET, "comment-2")
    assert one != commenter.key_id_for("another secret", "comment-1")
    assert len(one) == 32


def test_the_store_keeps_a_hash_of_the_key_not_the_key():
    key_id = commenter.key_id_for(SECRET, "comment-1")
    stored = commenter.author_key(key_id)
    assert len(stored) == 64 and key_id not in stored
    assert stored == commenter.author_key(key_id)


def test_an_author_token_a_host_site_can_write_in_any_language():
    expires = NOW + 600
    mac = hmac.new(HOST.encode(), f"reader@example.org\n{expires}".encode(), hashlib.sha256)
    token = f"v1.{expires}.{mac.hexdigest()}"
    assert commenter.sign_author_token(HOST, " Reader@Example.org ", expires) == token
    assert commenter.author_verified(HOST, token, "reader@example.org", now=NOW)
    assert commenter.author_verified(HOST, token, "READER@example.org", now=NOW)


@pytest.mark.parametrize(
    ("secret", "token", "email"),
    [
        (None, commenter.sign_author_token(HOST, "a@example.org", NOW + 60), "a@example.org"),
        ("", commenter.sign_author_token("", "a@example.org", NOW + 60), "a@example.org"),
        (HOST, commenter.sign_author_token("guess", "a@example.org", NOW + 60), "a@example.org"),
        (HOST, commenter.sign_author_token(HOST, "a@example.org", NOW - 1), "a@example.org"),
        (HOST, commenter.sign_author_token(HOST, "b@example.org", NOW + 60), "a@example.org"),
        (HOST, None, "a@example.org"),
        (HOST, "v2.1900000000.00", "a@example.org"),
        (HOST, "v1.１９００００００００.00", "a@example.org"),  # fullwidth digits
        (HOST, "v1.99999999999999999999.00", "a@example.org"),
        (HOST, "v1..", "a@example.org"),
    ],
)
def test_an_author_token_that_is_not_the_host_sites_word(secret, token, email):
    assert commenter.author_verified(secret, token, email, now=NOW) is False


def test_form_tokens_of_one_second_differ_and_still_check():
    tokens = {formtoken.issue(SECRET, "talks") for _ in range(10)}
    assert len(tokens) == 10
    assert all(formtoken.check(SECRET, "talks", t)[0] == "valid" for t in tokens)
