"""Training and scoring: a linear model over the hashed features of :mod:`.features`.

Every learner offered here ends as one weight per feature column and an intercept, so
scoring is a sparse dot product and a logistic function, whatever trained it: a stored
model is two arrays and some JSON (:mod:`.codec`), and the weights explain themselves
(:mod:`.explain`). The default learner is a logistic regression with balanced class
weights (spam is the rarer class on most sites); ``sgd`` (the same loss, trained by
stochastic gradient descent) and ``nb`` (complement naive Bayes) are kept for
``parley evaluate --learner`` so the choice can be measured again on a site's own data.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from shared.classifier.features import DEFAULT_PARAMS, Doc, Featurizer, Part, width
from shared.classifier.verdict import Verdict, band

LEARNERS: dict[str, dict] = {
    "logreg": {"kind": "logreg", "C": 10.0},
    "sgd": {"kind": "sgd", "alpha": 1e-5},
    "nb": {"kind": "nb", "alpha": 0.1},
}
DEFAULT_LEARNER = "logreg"
EXPLAIN_WORDS = 4  # words named each way in a reason


@dataclass
class Model:
    """A trained model: features, weights, and what it was trained on."""

    params: dict
    coef: np.ndarray  # float32, one weight per feature column
    intercept: float
    n_ham: int = 0
    n_spam: int = 0
    version: int = 0
    metrics: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.featurizer = Featurizer(self.params)
        if self.coef.shape != (width(self.params),):
            raise ValueError("weights do not match the feature space")

    def decision(self, X: sp.csr_matrix) -> np.ndarray:
        """The linear score (log-odds of spam) of each row of a feature matrix."""
        return np.asarray(X @ self.coef, dtype=np.float64) + self.intercept

    def probabilities(self, docs: Sequence[Doc]) -> np.ndarray:
        """The spam probability of each document."""
        return sigmoid(self.decision(self.featurizer.transform(docs)))

    def probability(self, doc: Doc, parts: list[Part] | None = None) -> float:
        """The spam probability of one document (the fast path of :meth:`probabilities`):
        each occurrence of an n-gram adds its column's weight over its block's norm."""
        z = self.intercept
        for part in parts if parts is not None else self.featurizer.parts(doc):
            if len(part.columns):
                weights = self.coef[part.offset + part.columns]
                z += float(np.sum(weights, dtype=np.float64)) / part.norm
        return 1.0 / (1.0 + math.exp(-min(max(z, -50.0), 50.0)))

    def judge(self, doc: Doc, trial: bool = False) -> Verdict:
        """The verdict on one comment, with the words behind it when it will be shown (the
        probability is in a band); both from one pass over the comment's n-grams."""
        from shared.classifier.explain import pushes

        parts = self.featurizer.parts(doc)
        probability = self.probability(doc, parts)
        spam: tuple[str, ...] = ()
        ham: tuple[str, ...] = ()
        if band(probability) is not None:
            spam, ham = pushes(self, doc, EXPLAIN_WORDS, parts)
        return Verdict(probability, self.version, spam, ham, trial)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def should_train(
    n_ham: int, n_spam: int, changed: int, has_model: bool, min_examples: int, every: int
) -> bool:
    """Whether to (re)train now, live (beat) and in ``parley evaluate`` alike: at least
    ``min_examples`` of each class, and either no model yet or ``every`` labels new or
    changed since the current one."""
    if min(n_ham, n_spam) < min_examples:
        return False
    return not has_model or changed >= every


def fit(
    X: sp.csr_matrix, y: np.ndarray, learner: str = DEFAULT_LEARNER
) -> tuple[np.ndarray, float]:
    """Weights and intercept learned from feature rows ``X`` and labels ``y`` (1 spam).

    Only the columns some example uses are given to the learner (a few hundred thousand
    of the hashed space's columns are empty): the others' weights are 0 either way, and
    the solver runs about twice as fast without them."""
    used = np.unique(X.indices)
    coef, intercept = _fit(X[:, used], y, learner)
    full = np.zeros(X.shape[1], dtype=np.float32)
    full[used] = coef
    return full, intercept


def _fit(X: sp.csr_matrix, y: np.ndarray, learner: str) -> tuple[np.ndarray, float]:
    config = LEARNERS[learner]
    y = np.asarray(y, dtype=np.int8)
    if config["kind"] == "nb":
        from sklearn.naive_bayes import ComplementNB

        nb = ComplementNB(alpha=config["alpha"]).fit(X, y)
        # Two classes: P(spam) = sigmoid(jll_spam - jll_ham), linear in X.
        logp = nb.feature_log_prob_
        coef = logp[1] - logp[0]
        intercept = float(nb.class_log_prior_[1] - nb.class_log_prior_[0])
        return coef.astype(np.float32), intercept
    if config["kind"] == "sgd":
        from sklearn.linear_model import SGDClassifier

        estimator = SGDClassifier(
            loss="log_loss",
            alpha=config["alpha"],
            class_weight="balanced",
            max_iter=50,
            tol=1e-4,
            random_state=0,
        )
    else:
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(
            solver="liblinear", C=config["C"], class_weight="balanced", max_iter=200
        )
    with warnings.catch_warnings():
        # A few iterations short of full convergence changes nothing a moderator sees.
        warnings.simplefilter("ignore", category=UserWarning)
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", category=ConvergenceWarning)
        estimator.fit(X, y)
    return estimator.coef_[0].astype(np.float32), float(estimator.intercept_[0])


def train(
    docs: Sequence[Doc],
    labels: Sequence[int],
    params: dict | None = None,
    learner: str = DEFAULT_LEARNER,
) -> Model:
    """A model trained on labelled documents (both classes needed)."""
    params = params or DEFAULT_PARAMS
    X = Featurizer(params).transform(docs)
    return train_matrix(X, labels, params, learner)


def train_matrix(
    X: sp.csr_matrix, labels: Sequence[int], params: dict, learner: str = DEFAULT_LEARNER
) -> Model:
    """A model from feature rows already computed with ``params`` (replays reuse them)."""
    y = np.asarray(labels, dtype=np.int8)
    n_spam = int(y.sum())
    if n_spam == 0 or n_spam == len(y):
        raise ValueError("training needs examples of both classes")
    coef, intercept = fit(X, y, learner)
    if not math.isfinite(intercept) or not np.all(np.isfinite(coef)):
        raise ValueError("training diverged")
    return Model(
        dict(params, learner=learner), coef, intercept, n_ham=len(y) - n_spam, n_spam=n_spam
    )


CURVE_SIZES = (25, 50, 100, 250, 500, 1000, 2000, 5000)
CURVE_HOLDOUT = 0.2


def learning_curve(
    X: sp.csr_matrix, labels: Sequence[int], learner: str = DEFAULT_LEARNER
) -> list[dict]:
    """How the model improves with examples, measured on the newest fifth of them (held
    out, as the next comments are the ones it will judge): per training size, the AUC,
    the spam it would hold or block, and the ham it would hold or block, at the bands of
    :mod:`.verdict`. Empty when the held-out part lacks a class."""
    from sklearn.metrics import roc_auc_score

    from shared.classifier.verdict import HOLD_BAND, SPAM_BAND

    y = np.asarray(labels, dtype=np.int8)
    cut = len(y) - max(1, int(len(y) * CURVE_HOLDOUT))
    test = y[cut:]
    if cut < 2 or test.min() == test.max():
        return []
    # The held-out part's own size last; none above half of it (the fits near the end
    # cost the most and tell the least).
    sizes = [s for s in CURVE_SIZES if s <= cut // 2] + [cut]
    points = []
    for size in sizes:
        part = y[:size]
        if part.min() == part.max():
            continue
        coef, intercept = fit(X[:size], part, learner)
        p = sigmoid(np.asarray(X[cut:] @ coef, dtype=np.float64) + intercept)
        spam, ham = p[test == 1], p[test == 0]
        points.append(
            {
                "examples": size,
                "auc": round(float(roc_auc_score(test, p)), 4),
                "spam_caught": round(float(np.mean(spam >= HOLD_BAND)), 4),
                "ham_held": round(float(np.mean((ham >= HOLD_BAND) & (ham < SPAM_BAND))), 4),
                "ham_to_spam": round(float(np.mean(ham >= SPAM_BAND)), 4),
            }
        )
    return points
