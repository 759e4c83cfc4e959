"""Pre-moderation in the decision (docs/contract.md §4): the article's mode is data passed
to the pure policy; only what would be published changes, to held with its reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.articles import MODERATION_MODES, moderation_for, validate_article
from shared.moderation.policy import AKISMET_VERDICTS, ARTICLE_MODES, PREMODERATION, decide
from shared.moderation.rules import Signal

RULES = ("links", "block_word", "honeypot", "hold_word", "classifier", "form_too_fast")
signals = st.lists(
    st.builds(
        Signal,
        rule=st.sampled_from(RULES),
        score=st.floats(min_value=-3, max_value=5, allow_nan=False).map(lambda x: round(x, 2)),
        detail=st.just("seen"),
        trial=st.booleans(),
    ),
    max_size=5,
)


@given(signals, st.sampled_from(AKISMET_VERDICTS), st.sampled_from(("auto", "closed")))
def test_auto_and_closed_decide_as_before(found, verdict, mode):
    assert decide(found, verdict, 1.0, 3.0, article_mode=mode) == decide(found, verdict, 1.0, 3.0)


@given(signals, st.sampled_from(AKISMET_VERDICTS))
def test_premoderate_holds_exactly_what_would_be_published(found, verdict):
    auto = decide(found, verdict, 1.0, 3.0)
    pre = decide(found, verdict, 1.0, 3.0, article_mode="premoderate")
    if auto.status != "published":
        assert pre == auto  # spam, discards and holds are the checks' own
        return
    assert pre.status == "held"
    assert pre.score == auto.score
    assert pre.reasons[:-1] == auto.reasons
    assert pre.reasons[-1]["rule"] == PREMODERATION and pre.reasons[-1]["score"] == 0
    assert pre.summary.startswith("Held: the article is pre-moderated")
    assert "would have published" in pre.summary


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="moderation mode"):
        decide([], "ham", 1.0, 3.0, article_mode="lenient")


def test_article_modes_are_the_policys():
    assert MODERATION_MODES == ARTICLE_MODES


BODY = {"title": "T", "url": "https://news.example/t"}


@given(
    st.one_of(st.none(), st.sampled_from(MODERATION_MODES), st.text(max_size=12)),
    st.one_of(st.none(), st.booleans(), st.integers(0, 1)),
    st.sampled_from((None, *MODERATION_MODES)),
)
def test_mode_and_comments_open_never_disagree(mode, open_, stored):
    data = dict(BODY)
    if mode is not None:
        data["moderation"] = mode
    if open_ is not None:
        data["comments_open"] = open_
    fields, errors = validate_article(data)
    if errors:
        assert set(errors) <= {"moderation", "comments_open"}
        return
    final = fields["moderation"] or moderation_for(fields["comments_open"], stored)
    assert final in MODERATION_MODES
    assert (final == "closed") == (not fields["comments_open"])
    if mode is None and fields["comments_open"] and stored == "premoderate":
        assert final == "premoderate"
