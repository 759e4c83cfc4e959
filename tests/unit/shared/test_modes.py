"""Trial mode (docs/contract.md §4): rules and list entries on, on trial or off, and
weights; a trial is shown in the reasons and never counted."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.moderation import modes
from shared.moderation.modes import RuleMode
from shared.moderation.policy import decide, heuristic_precheck, total_score
from shared.moderation.rules import WEIGHTS, CommentFacts, RuleContext, Signal, evaluate


def facts(content: str, **kw) -> CommentFacts:
    kw.setdefault("author_email", "olena@example.com")
    return CommentFacts(content=content, author_name="Olena", user_ip="198.51.100.7", **kw)


def ctx(**kw) -> RuleContext:
    return RuleContext.defaults(Settings(), **kw)


def by_rule(signals: list[Signal]) -> dict[str, Signal]:
    return {s.rule: s for s in signals}


TWO_LINKS = "See https://a.example/1 and https://b.example/2"


def test_a_rule_on_trial_is_shown_and_not_counted():
    signals = evaluate(facts(TWO_LINKS), ctx(rule_modes={"links": RuleMode("trial")}))
    [links] = signals
    assert links.trial and links.score == 1.0
    assert links.as_dict() == {
        "rule": "links",
        "score": 1.0,
        "detail": links.detail,
        "trial": True,
    }
    assert total_score(signals) == 0
    assert decide(signals, "ham", 1.0, 3.0).status == "published"


def test_a_rule_that_is_off_raises_nothing():
    assert evaluate(facts(TWO_LINKS), ctx(rule_modes={"links": RuleMode("off")})) == []


def test_a_weight_replaces_the_default():
    [links] = evaluate(facts(TWO_LINKS), ctx(rule_modes={"links": RuleMode("on", 2.5)}))
    assert (links.score, links.trial) == (2.5, False)


def test_a_weight_scales_a_rule_whose_score_grows_with_its_evidence():
    c = ctx(similar_recent=3, rule_modes={"duplicate_text": RuleMode("on", 2.0)})
    [dup] = evaluate(facts("hello there"), c)
    # 1.0 + 2 × 0.5 = 2.0 by default; the default weight 1.0 becomes 2.0.
    assert dup.score == 4.0


def test_a_weight_scales_the_classifiers_band_score():
    signals = [Signal("classifier", 3.0, "spam probability 0.97"), Signal("links", 1.0, "x")]
    scaled = modes.apply(signals, {"classifier": RuleMode("on", 0.5)}, WEIGHTS)
    assert [(s.rule, s.score) for s in scaled] == [("classifier", 1.5), ("links", 1.0)]


def test_weighted_and_valid_weight():
    assert modes.weighted(3.0, 3.0, None) == 3.0
    assert modes.weighted(1.0, None, 2.0) == 2.0
    assert modes.weighted(-0.5, 1.0, 2.0) == -1.0
    for good in (0, -3, 2.5, 100):
        assert modes.valid_weight(good)
    for bad in (True, "2", None, float("nan"), float("inf"), 101, -100.5):
        assert not modes.valid_weight(bad)


def test_a_block_word_on_trial_is_shown_never_counted_and_never_skips_akismet():
    c = ctx(trial_lists={"block_word": {"Zorblax"}})
    signals = evaluate(facts("Buy zorblax today"), c)
    [trial] = signals
    assert trial.rule == "block_word" and trial.trial and trial.score == 3.0
    assert trial.entry == ("block_word", "zorblax")
    assert trial.as_dict()["entry"] == {"kind": "block_word", "value": "zorblax"}
    assert total_score(signals) == 0
    assert heuristic_precheck(signals, 3.0) is None  # Akismet is still asked
    assert decide(signals, "ham", 1.0, 3.0).status == "published"


def test_an_entry_on_trial_that_changes_nothing_raises_nothing():
    c = ctx(trial_lists={"block_word": {"zorblax"}})
    assert evaluate(facts("An ordinary comment."), c) == []


def test_an_entry_on_trial_next_to_a_counted_hit_is_shown_with_both():
    c = ctx(trial_lists={"block_word": {"zorblax"}})
    signals = evaluate(facts("viagra and zorblax"), c)
    counted, trial = signals
    assert (counted.rule, counted.trial, counted.detail) == (
        "block_word",
        False,
        'blocked word "viagra"',
    )
    assert trial.trial and trial.detail == 'blocked words "viagra", "zorblax"'
    assert total_score(signals) == 3.0


def test_an_allowed_domain_on_trial_says_the_links_rule_would_fall_silent():
    c = ctx(trial_lists={"allowed_domain": {"b.example"}})
    signals = evaluate(facts(TWO_LINKS), c)
    links, trial = signals
    assert (links.rule, links.trial, links.score) == ("links", False, 1.0)
    assert (trial.rule, trial.trial, trial.score) == ("links", True, 0.0)
    assert trial.detail == 'would not fire with the allowed domain "b.example" on'
    assert trial.entry == ("allowed_domain", "b.example")


def test_an_entry_on_trial_of_an_address_list():
    c = ctx(trial_lists={"disposable_domain": {"burner.example"}})
    [trial] = evaluate(facts("Thanks for the piece.", author_email="a@x.burner.example"), c)
    assert (trial.rule, trial.score, trial.trial) == ("disposable_email", 1.0, True)
    assert trial.entry == ("disposable_domain", "burner.example")
    assert trial.detail == "uses a throw-away e-mail domain (burner.example)"


def test_entries_on_trial_and_rule_modes_together():
    c = ctx(
        trial_lists={"hold_word": {"zorblax"}},
        rule_modes={"hold_word": RuleMode("on", 2.0), "links": RuleMode("off")},
    )
    [trial] = evaluate(facts(f"zorblax! {TWO_LINKS}"), c)
    assert (trial.rule, trial.score, trial.trial) == ("hold_word", 2.0, True)


def test_apply_leaves_unknown_rules_alone():
    s = Signal("custom", 0.7, "x")
    assert modes.apply([s], {"links": RuleMode("off")}, WEIGHTS) == [s]


@pytest.mark.parametrize(
    ("reason", "entry"),
    [
        (
            {"rule": "block_word", "entry": {"kind": "block_word", "value": "x"}},
            ("block_word", "x"),
        ),
        ({"rule": "links"}, None),
        ({"rule": "links", "entry": "garbage"}, None),
    ],
)
def test_reason_entry(reason, entry):
    assert modes.reason_entry(reason) == entry


def test_every_list_kind_names_the_rules_that_read_it():
    from shared.moderation.rules import LIST_FIELDS, RULES

    names = {rule.__name__ for rule in RULES}
    assert set(modes.READS) == set(LIST_FIELDS)
    for kind, readers in modes.READS.items():
        assert readers <= names, kind
