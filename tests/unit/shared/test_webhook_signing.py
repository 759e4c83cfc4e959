"""X-Parley-Signature (docs/contract.md §4): HMAC-SHA256 over "<t>." + the exact body; and
the replay's bounds."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks.endpoints import parse_instant
from shared.webhooks.signing import signature_header, verify

SECRET = "whsec_test_secret_123"


def test_the_header_is_t_and_v1_as_the_contract_says():
    body = b'{"event_id":"e1","type":"comment.published"}'
    header = signature_header(SECRET, body, now=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


@given(st.binary(max_size=2000), st.text(min_size=16, max_size=64))
def test_verify_accepts_its_own_and_refuses_any_change(body, secret):
    header = signature_header(secret, body, now=1_700_000_000)
    assert verify(secret, header, body, now=1_700_000_010)
    assert not verify(secret + "x", header, body, now=1_700_000_010)
    assert not verify(secret, header, body + b" ", now=1_700_000_010)
    assert not verify(secret, header, body, now=1_700_000_000 + 301)  # too old: a replay


@given(st.text(max_size=200))
def test_verify_never_raises_on_a_garbled_header(header):
    assert verify(SECRET, header, b"{}") in (True, False)


@given(st.one_of(st.text(max_size=60), st.none(), st.integers(), st.datetimes().map(str)))
def test_replay_bounds_parse_or_refuse(value):
    """Any ``since``/``until`` is an aware datetime or a ValueError (a 422), never a 500."""
    try:
        at = parse_instant(value)
    except ValueError:
        return
    assert at.tzinfo is not None
