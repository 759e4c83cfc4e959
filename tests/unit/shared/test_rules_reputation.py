"""Reputation and the form token in the rules (issue 22 items 5 and 11).

An e-mail address is not a credential: anyone may type a regular's. The trusted list
applies only to an address the host site vouched for (``author_verified``), and the
author's record is what the caller counted by the commenter key (``RuleContext``'s
counts), never by the address. A form token is good for one comment, and a form post
without one is a script's.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.config import Settings
from shared.moderation.rules import (
    WEIGHTS,
    CommentFacts,
    RuleContext,
    evaluate,
    rule_author_history,
    rule_form_token,
)

REGULAR = "olena@example.com"


def facts(**kw) -> CommentFacts:
    kw.setdefault("author_name", "Olena")
    kw.setdefault("author_email", REGULAR)
    return CommentFacts(content="Thanks for the piece.", **kw)


def ctx(**kw) -> RuleContext:
    return RuleContext.defaults(Settings(), **kw)


def rules_of(signals) -> list[str]:
    return [s.rule for s in signals]


# --- item 5: reputation by typing an e-mail address ------------------------------------


def test_a_typed_address_on_the_trusted_list_earns_nothing():
    """The finding: a spammer who typed a trusted reader's address got -3."""
    trusted = ctx(trusted_authors={REGULAR})
    assert rule_author_history(facts(), trusted) == []
    assert rule_author_history(facts(author_email=REGULAR.upper()), trusted) == []


def test_a_verified_address_on_the_trusted_list_earns_the_bonus():
    trusted = ctx(trusted_authors={"Olena@Example.com"}, author_approved_count=4)
    [s] = rule_author_history(facts(author_verified=True), trusted)
    assert (s.rule, s.score) == ("trusted_author", -3.0)
    # verified, but not on the list: the record by key speaks
    [s] = rule_author_history(facts(author_verified=True), ctx(author_approved_count=4))
    assert s.rule == "author_approved_history"


def test_the_record_is_the_contexts_counts_and_a_spam_record_outweighs_the_list():
    assert rule_author_history(facts(author_verified=True), ctx()) == []
    signals = rule_author_history(
        facts(author_verified=True), ctx(trusted_authors={REGULAR}, author_spam_count=1)
    )
    assert rules_of(signals) == ["trusted_author", "author_spam_history"]


def test_facts_carry_verification_from_the_stored_comment():
    stored = SimpleNamespace(content="hi", author_email=REGULAR, author_verified=True)
    assert CommentFacts.from_comment(stored).author_verified is True
    assert CommentFacts.from_comment(SimpleNamespace(content="hi")).author_verified is False
    assert facts().author_verified is False


# --- item 11: the form token ------------------------------------------------------------


def test_a_reused_form_token_scores_like_a_forged_one():
    s = rule_form_token(facts(form_token_status="reused"), ctx())
    assert s is not None and (s.rule, s.score) == ("form_token_invalid", 1.0)
    assert s.detail == "the form token was already used for another comment"
    forged = rule_form_token(facts(form_token_status="invalid"), ctx())
    assert forged is not None and forged.detail == "the form token was tampered with or forged"


def test_a_form_post_without_its_token_is_a_weak_signal():
    s = rule_form_token(facts(form_token_status="form_missing"), ctx())
    assert s is not None and (s.rule, s.score) == ("form_token_missing", 0.5)
    assert WEIGHTS["form_token_missing"] == 0.5
    assert "the article page always sends one" in s.detail
    # alone it holds nothing (hold threshold 1.0); with another weak sign it does
    assert sum(x.score for x in evaluate(facts(form_token_status="form_missing"), ctx())) < 1.0


@pytest.mark.parametrize("status", ["missing", "expired"])
def test_no_token_from_an_api_client_costs_nothing(status):
    assert rule_form_token(facts(form_token_status=status), ctx()) is None
