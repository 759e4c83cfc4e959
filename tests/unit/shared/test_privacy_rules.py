"""The pure parts of privacy (shared.privacy.address, shared.privacy.scrub): the form an
address is looked up by, and what erasing does to each field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.privacy.address import MAX_ADDRESS, AddressError, lookup_address
from shared.privacy.scrub import (
    ERASED_NAME,
    erased_akismet,
    erased_reasons,
    erased_values,
    tombstone_hash,
)
from shared.validation import validate_comment


@pytest.mark.parametrize(
    ("raw", "looked_up"),
    [
        ("  Ayse@Example.ORG ", "Ayse@example.org"),
        ("user@xn--bcher-kva.example", "user@bücher.example"),
        ("not an address", "not an address"),
        ("a/b@example.org", "a/b@example.org"),
    ],
)
def test_lookup_form(raw, looked_up):
    assert lookup_address(raw) == looked_up


@pytest.mark.parametrize("raw", ["", "   ", "a" * (MAX_ADDRESS + 1), "a\x00b@x.org", "a\nb@x.org"])
def test_addresses_nothing_is_stored_under(raw):
    with pytest.raises(AddressError):
        lookup_address(raw)


@given(st.emails())
def test_the_lookup_form_is_the_stored_form(address):
    """Hypothesis: whatever the intake stores for an address is what a request for the same
    address (padded, domain in capitals) is looked up by."""
    clean, errors = validate_comment({"author_name": "x", "author_email": address, "content": "x"})
    if errors:
        return
    local, _, domain = address.rpartition("@")
    assert lookup_address(f" {local}@{domain.upper()} ").lower() == clean.author_email.lower()


@given(st.text(max_size=400))
def test_lookup_never_fails_otherwise(raw):
    try:
        looked_up = lookup_address(raw)
    except AddressError:
        return
    assert looked_up and len(looked_up) <= MAX_ADDRESS + 10


def test_erased_values_name_nobody():
    values = erased_values(
        "c1",
        [{"rule": "blocked_email", "score": 5.0, "detail": "a@b.org"}, "junk"],
        {"verdict": "spam", "guid": "g", "pro_tip": "discard", "checked_at": "t"},
        keep_content=False,
    )
    assert values["author_name"] == ERASED_NAME
    assert values["author_email"] == values["user_ip"] == values["content"] == ""
    for key in ("author_url", "user_agent", "referrer", "accept_language", "author_key"):
        assert values[key] is None
    assert values["fingerprint"] == values["content_hash"] == tombstone_hash("c1")
    assert values["reasons"] == [{"rule": "blocked_email", "score": 5.0}]
    assert values["akismet"] == {"verdict": "spam", "checked_at": "t"}
    kept = erased_values("c1", [], {}, keep_content=True)
    assert "content" not in kept and "content_hash" not in kept


def test_tombstones_differ_per_comment():
    assert tombstone_hash("a") != tombstone_hash("b") and len(tombstone_hash("a")) == 64


@given(
    st.recursive(
        st.none() | st.text() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_scrubbing_any_stored_json_never_fails(value):
    assert isinstance(erased_reasons(value), list)
    assert isinstance(erased_akismet(value), dict)
