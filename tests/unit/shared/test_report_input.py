"""A reader's report's fields (docs/contract.md §3 ``POST /api/v1/comments/{id}/reports``),
without HTTP: the reason, the note's rules, and a property test over any body."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.config import SettingsError, load_settings
from shared.ops.metrics import REPORT_REASONS as METERED_REASONS
from shared.validation import (
    ALLOWED_CONTROL,
    MAX_REPORT_NOTE,
    REPORT_REASONS,
    _control_chars,
    validate_report,
)


def test_the_metric_has_a_series_per_reason():
    assert METERED_REASONS == REPORT_REASONS == ("spam", "abuse", "off-topic", "other")


@pytest.mark.parametrize("reason", REPORT_REASONS)
def test_each_reason_is_accepted(reason):
    report, errors = validate_report({"reason": f" {reason} "})
    assert errors == {} and report.reason == reason and report.note is None


@pytest.mark.parametrize("reason", [None, "", "Spam", "offtopic", 1, ["spam"], {"a": 1}])
def test_other_reasons_are_refused(reason):
    report, errors = validate_report({"reason": reason})
    assert report is None and list(errors) == ["reason"]


def test_the_note_is_trimmed_normalised_and_bounded():
    report, _ = validate_report({"reason": "other", "note": "  Cafe\u0301\r\nsecond\tline  "})
    assert report.note == "Café\nsecond\tline"
    assert validate_report({"reason": "other", "note": "   "})[0].note is None
    assert validate_report({"reason": "other", "note": "e\u0301" * MAX_REPORT_NOTE})[1] == {}
    _, errors = validate_report({"reason": "other", "note": "x" * (MAX_REPORT_NOTE + 1)})
    assert errors == {"note": ["must be at most 500 characters (got 501)"]}
    _, errors = validate_report({"reason": "other", "note": "a\x00b\x1bc"})
    assert errors == {"note": ["contains control characters: U+0000, U+001B"]}


def test_the_commenter_token_is_taken_from_the_body():
    assert validate_report({"reason": "spam", "commenter_token": " t "})[0].commenter_token == "t"
    assert validate_report({"reason": "spam", "commenter_token": ""})[0].commenter_token is None
    assert "commenter_token" in validate_report({"reason": "spam", "commenter_token": 3})[1]


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=700),
    st.sampled_from(REPORT_REASONS),
    st.lists(st.text(max_size=3), max_size=2),
)


# No deadline: on a machine shared by many test runs one example can take a second.
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["reason", "note", "commenter_token", "x"]), VALUES))
def test_any_body_is_a_clean_report_or_named_errors(body):
    report, errors = validate_report(body)
    assert (report is None) == bool(errors)
    reason = body.get("reason")
    reason_ok = isinstance(reason, str) and reason.strip() in REPORT_REASONS
    assert ("reason" in errors) == (not reason_ok)
    assert set(errors) <= {"reason", "note", "commenter_token"}
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)
    if report is not None:
        assert report.reason in REPORT_REASONS
        note = report.note
        if note is not None:
            assert note == note.strip() and note
            assert len(note) <= MAX_REPORT_NOTE
            assert unicodedata.is_normalized("NFC", note)
            assert not _control_chars(note, ALLOWED_CONTROL) and "\r" not in note
        else:
            assert not (isinstance(body.get("note"), str) and body["note"].strip())


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PARLEY_REPORT_THRESHOLD", "0"),
        ("PARLEY_REPORT_THRESHOLD", "1001"),
        ("PARLEY_REPORT_THRESHOLD", "three"),
        ("PARLEY_REPORT_RATE_LIMIT", "often"),
    ],
)
def test_a_bad_report_setting_stops_the_process_naming_it(variable, value):
    with pytest.raises(SettingsError, match=variable):
        load_settings({variable: value})


def test_report_settings_defaults_and_off():
    assert load_settings({}).report_threshold == 3
    assert load_settings({}).report_rate_limit == "10/minute"
    assert load_settings({"PARLEY_REPORT_RATE_LIMIT": "OFF"}).report_rate_limit == "off"
    assert load_settings({"PARLEY_REPORT_THRESHOLD": "1"}).report_threshold == 1
