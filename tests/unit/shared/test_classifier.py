"""The learned classifier's pure parts: features, training, scoring, explanation, the
stored form (no pickle), the bands, the rule and the policy around it."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from sklearn.feature_extraction import FeatureHasher

from shared.classifier import codec
from shared.classifier.explain import contributions_total, shares
from shared.classifier.features import DEFAULT_PARAMS, Doc, Featurizer, check_params, column
from shared.classifier.model import (
    LEARNERS,
    Model,
    learning_curve,
    should_train,
    train,
)
from shared.classifier.verdict import Verdict, band, explanation, weigh
from shared.moderation.policy import decide, heuristic_precheck, total_score
from shared.moderation.rules import CommentFacts, RuleContext, Signal, evaluate, rule_classifier
from tests.support.corpus import comments

SPAM = [
    "WINNER!! Claim your free prize now, txt CLAIM to 80086",
    "Free entry to win cash, call 0906 now to claim",
    "Urgent! Your mobile won a free ringtone, txt WIN",
    "Cheap viagra casino bonus, claim free spins now",
] * 6
HAM = [
    "Are we still meeting for lunch tomorrow?",
    "I'll be late, the train is delayed again",
    "Thanks for the notes from the lecture",
    "Can you pick up some bread on the way home?",
] * 6


@pytest.fixture(scope="module")
def model() -> Model:
    docs = [Doc(t) for t in SPAM + HAM]
    return train(docs, [1] * len(SPAM) + [0] * len(HAM))


@pytest.fixture(scope="module")
def blog_model() -> Model:
    rows = comments(150, 150, seed=3)
    docs = [Doc(r["text"], r["author_name"], r["author_url"] or None) for r in rows]
    return train(docs, [r["label"] for r in rows])


# --- features -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        Doc("Hello there, general Kenobi!"),
        Doc(""),
        Doc("東京タワーから見た景色 ☕ naïve café", "Ayşe Yılmaz", "https://ayse.example.org/x"),
        Doc("see http://a.example and http://b.example", "Cheap Pills", "not a url"),
        Doc("x" * 3000),
    ],
)
def test_one_row_is_the_vectorizers_row(doc):
    featurizer = Featurizer(DEFAULT_PARAMS)
    expected = featurizer.transform([doc]).tocoo()
    columns, values = featurizer.row(doc)
    assert sorted(columns.tolist()) == sorted(expected.col.tolist())
    got = dict(zip(columns.tolist(), values.tolist(), strict=True))
    for col, value in zip(expected.col.tolist(), expected.data.tolist(), strict=True):
        assert got[col] == pytest.approx(value, abs=1e-6)


def test_columns_are_scikit_learns():
    grams = ["free", "txt", " cl", "claim now", "東京", "n:ayşe", "x" * 200]
    hashed = FeatureHasher(2**18, input_type="string", alternate_sign=False)
    expected = hashed.transform([[g] for g in grams]).indices.tolist()
    assert [column(g, 2**18) for g in grams] == expected


def test_feature_settings_are_a_closed_list():
    check_params(DEFAULT_PARAMS)
    bad_blocks = [
        {**DEFAULT_PARAMS["blocks"][0], "token": r"(a+)+$"},  # no regular expression of its own
        {**DEFAULT_PARAMS["blocks"][0], "analyzer": "callable"},
        {**DEFAULT_PARAMS["blocks"][0], "bits": 40},
        {**DEFAULT_PARAMS["blocks"][0], "ngram": [0, 9]},
        {**DEFAULT_PARAMS["blocks"][0], "preprocessor": "os.system"},
    ]
    for block in bad_blocks:
        with pytest.raises(ValueError):
            check_params({**DEFAULT_PARAMS, "blocks": [block]})
    for params in (None, [], {"format": 99, "blocks": []}, {**DEFAULT_PARAMS, "extra": 1}):
        with pytest.raises(ValueError):
            check_params(params)


# --- training, scoring, explaining ------------------------------------------------------


def test_training_and_scoring(model):
    assert (model.n_ham, model.n_spam) == (len(HAM), len(SPAM))
    assert model.probability(Doc("claim your free prize, txt WIN now")) > 0.9
    assert model.probability(Doc("Are we still meeting for lunch tomorrow?")) < 0.1
    docs = [Doc("free prize"), Doc("lunch tomorrow")]
    batch = model.probabilities(docs)
    assert batch.tolist() == pytest.approx([model.probability(d) for d in docs], abs=1e-5)


def test_training_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        train([Doc("a b c"), Doc("d e f")], [1, 1])


@pytest.mark.parametrize("learner", sorted(LEARNERS))
def test_every_learner_ends_as_weights_and_an_intercept(learner):
    docs = [Doc(t) for t in SPAM + HAM]
    model = train(docs, [1] * len(SPAM) + [0] * len(HAM), learner=learner)
    assert model.params["learner"] == learner
    assert model.probability(Doc("claim free prize txt")) > model.probability(Doc("lunch"))


def test_the_explanation_adds_up_to_the_score(model, blog_model):
    for m, doc in [
        (model, Doc("WINNER claim your free prize, see you at lunch")),
        (
            blog_model,
            Doc("Great post! Visit https://bestpills.top/x", "SEO Agency", "https://x.ru/"),
        ),
        (blog_model, Doc("")),
    ]:
        columns, values = m.featurizer.row(doc)
        score = float(m.coef[columns].astype(np.float64) @ values) + m.intercept
        assert contributions_total(m, doc) == pytest.approx(score, abs=1e-4)


def test_the_verdict_names_the_words_that_pushed_it(model, blog_model):
    verdict = model.judge(Doc("WINNER! Claim your free prize now"))
    assert verdict.probability > 0.9
    assert {"claim", "free", "prize", "winner"} & set(verdict.toward_spam)
    assert 3 <= len(verdict.toward_spam) <= 5
    ham = model.judge(Doc("Are we still meeting for lunch tomorrow?"))
    assert ham.probability < 0.1 and ham.toward_ham
    assert "lunch" in ham.toward_ham or "tomorrow" in ham.toward_ham
    # The author block is named as such.
    blog = shares(blog_model, Doc("Nice read", "Cheap Essay Writing", "https://essaypro.com/"))
    assert any(name.startswith(("name:", "site:")) for name in blog)


def test_an_unsure_verdict_is_not_explained(model):
    doc = Doc("ok")
    verdict = model.judge(doc)
    if band(verdict.probability) is None:
        assert verdict.toward_spam == () and verdict.toward_ham == ()


def test_learning_curve_points(blog_model):
    rows = comments(120, 80, seed=5)
    docs = [Doc(r["text"], r["author_name"], r["author_url"] or None) for r in rows]
    X = Featurizer(DEFAULT_PARAMS).transform(docs)
    points = learning_curve(X, [r["label"] for r in rows])
    assert points and points[-1]["examples"] == 160
    assert {"examples", "auc", "spam_caught", "ham_held", "ham_to_spam"} == set(points[0])
    assert learning_curve(X[:10], [0] * 10) == []


def test_cold_start_and_retraining_schedule():
    assert not should_train(100, 9, 100, False, 10, 20)  # too few spam: silent
    assert should_train(10, 10, 1, False, 10, 20)  # enough, and no model yet
    assert not should_train(500, 500, 19, True, 10, 20)  # a model, few new labels
    assert should_train(500, 500, 20, True, 10, 20)


# --- the stored form --------------------------------------------------------------------


def test_round_trip_without_pickle(blog_model):
    params, blob = codec.encode(blog_model)
    assert b"pickle" not in blob
    back = codec.decode(params, blob, n_ham=1, n_spam=2, version=7)
    assert back.version == 7 and (back.n_ham, back.n_spam) == (1, 2)
    for text in ("Great post! https://bestpills.top/x", "The budget office was wrong."):
        assert back.probability(Doc(text)) == pytest.approx(blog_model.probability(Doc(text)))
    assert len(blob) < 20 * 2**20


PICKLE_RAN: list[bool] = []


def _mark():
    PICKLE_RAN.append(True)
    return 0


class _Payload:
    def __reduce__(self):
        return (_mark, ())


def _tampered(params: dict, blob: bytes):
    """Each tampering of a stored model, as (params, blob)."""
    count = params["coef"]["count"]
    evil = io.BytesIO()
    np.save(evil, np.array([_Payload()] * count, dtype=object), allow_pickle=True)
    stored = io.BytesIO(blob)
    columns = np.load(stored, allow_pickle=False)
    weights = np.load(stored, allow_pickle=False)

    def pack(*arrays):
        out = io.BytesIO()
        for array in arrays:
            np.save(out, array, allow_pickle=False)
        return out.getvalue()

    outside = columns.copy()
    outside[0] = 2**30  # far past the last column
    nan = weights.copy()
    nan[0] = np.nan
    yield params, evil.getvalue() + evil.getvalue()  # a pickled object array
    yield params, blob[: len(blob) // 2]  # truncated
    yield params, blob + b"\x00"  # trailing bytes
    yield params, b"not numpy at all"
    yield params, pack(columns.astype(np.int64), weights)  # another dtype
    yield params, pack(outside, weights)  # a column outside the space
    yield params, pack(columns, nan)  # not a number
    yield {**params, "format": 2}, blob
    yield {**params, "intercept": float("inf")}, blob
    yield {**params, "intercept": "1e3"}, blob
    yield {**params, "coef": {**params["coef"], "count": count + 1}}, blob
    yield {**params, "model": {**params["model"], "learner": "pickle"}}, blob
    yield {**params, "model": {**params["model"], "blocks": "x"}}, blob
    yield "not a dict", blob


def test_a_tampered_model_fails_safely(model):
    params, blob = codec.encode(model)
    for bad_params, bad_blob in _tampered(params, blob):
        with pytest.raises(codec.CorruptModel):
            codec.decode(bad_params, bad_blob)
    assert PICKLE_RAN == [], "a stored model ran code"


# --- bands, the rule, the policy ----------------------------------------------------------


def test_bands():
    assert [band(p) for p in (0.97, 0.9, 0.6, 0.4, 0.3, 0.1, 0.01)] == [
        "spam", "spam", "hold", "hold", None, "ham", "ham",
    ]  # fmt: skip
    assert weigh(Verdict(0.95, 3))[0] == 3.0
    assert weigh(Verdict(0.6, 3))[0] == 1.0
    assert weigh(Verdict(0.3, 3)) is None
    assert weigh(Verdict(0.05, 3))[0] == -0.5


def test_the_reason_says_the_probability_and_the_words():
    text = explanation(Verdict(0.97, 4, ("free", "txt", "claim"), ("lunch",)))
    assert text == (
        'spam probability 0.97 (model v4): "free", "txt", "claim" pushed toward spam; '
        '"lunch" toward ham'
    )
    assert explanation(Verdict(0.03, 4, ("claim",), ("lunch", "tomorrow"))) == (
        'spam probability 0.03 (model v4): "lunch", "tomorrow" pushed toward ham'
    )


def test_the_rule_is_silent_without_a_model_and_when_unsure():
    facts = CommentFacts(content="anything")
    assert rule_classifier(facts, RuleContext()) is None
    assert rule_classifier(facts, RuleContext(classifier=Verdict(0.3, 1))) is None
    assert "classifier" not in [s.rule for s in evaluate(facts, RuleContext.defaults())]


def test_the_rule_by_band():
    facts = CommentFacts(content="anything")
    for p, score in ((0.99, 3.0), (0.7, 1.0), (0.02, -0.5)):
        signal = rule_classifier(facts, RuleContext(classifier=Verdict(p, 2, ("w",), ("h",))))
        assert (signal.rule, signal.score, signal.trial) == ("classifier", score, False)
        assert signal.detail.startswith(f"spam probability {p:.2f} (model v2)")
        assert "trial" not in signal.as_dict()
    # Through evaluate and the policy, with the default thresholds.
    ctx = RuleContext.defaults(classifier=Verdict(0.99, 2, ("free",)))
    assert decide(evaluate(facts, ctx), "skipped", 1.0, 3.0).status == "spam"
    ctx = replace(ctx, classifier=Verdict(0.7, 2, ("free",)))
    assert decide(evaluate(facts, ctx), "ham", 1.0, 3.0).status == "held"


def test_trial_is_shown_not_counted():
    facts = CommentFacts(content="anything")
    ctx = RuleContext(classifier=Verdict(0.99, 2, ("free",), trial=True))
    signals = evaluate(facts, ctx)
    assert [s.as_dict()["trial"] for s in signals] == [True]
    assert total_score(signals) == 0
    decision = decide(signals, "skipped", 1.0, 3.0)
    assert decision.status == "published"
    assert decision.reasons[0]["trial"] is True and "classifier" not in decision.summary
    assert total_score([Signal("links", 1.0, "x"), Signal("classifier", 3.0, "y", trial=True)]) == 1


def test_the_classifier_never_publishes_what_akismet_called_spam_nor_unchecked():
    confident_ham = [Signal("classifier", -0.5, "spam probability 0.01")]
    assert decide(confident_ham, "spam", 1.0, 3.0).status == "spam"
    assert decide(confident_ham, "discard", 1.0, 3.0).status == "discarded"
    assert decide(confident_ham, "error", 1.0, 3.0).status == "held"
    # Nor does a confident ham cancel a moderator's blocked address.
    listed = [Signal("blocked_email", 5.0, "x"), *confident_ham]
    assert heuristic_precheck(listed, 3.0).status == "spam"


def test_a_confident_ham_counters_one_soft_sign_only():
    ham = Signal("classifier", -0.5, "spam probability 0.01")
    assert decide([Signal("links", 1.0, "x"), ham], "ham", 1.0, 3.0).status == "published"
    two = [Signal("links", 1.0, "x"), Signal("hold_word", 1.0, "y"), ham]
    assert decide(two, "ham", 1.0, 3.0).status == "held"
    assert decide([Signal("link_markup", 1.5, "x"), ham], "ham", 1.0, 3.0).status == "held"
