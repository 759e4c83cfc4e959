"""Beat's retraining: a new model version once enough labels are new or changed.

Whatever the classifier's mode: a model trained while it is off or on trial is ready the
moment an admin switches it on.

The task (``parley.retrain_classifier``, every minute) is cheap when there is nothing to
do: two counts. When :func:`shared.classifier.model.should_train` says so, the examples
are read (the newest :data:`MAX_EXAMPLES`), the session is closed, the model and its
learning curve are trained with no transaction open, and the new version is stored in one
short transaction. Two trainers racing (a slow run overlapping the next) cannot both
store: the version is the primary key, and the loser's insert is refused and dropped.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from shared.classifier import store
from shared.db import session_scope

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)
# The newest examples a model learns from: enough for any site's vocabulary, and a
# bound on the training time (10,000 take a few seconds) and memory.
MAX_EXAMPLES = 20_000


def retrain(container: Container, force: bool = False) -> dict[str, Any]:
    """Train and store a new version if one is due (or ``force`` and there are enough
    examples of each class); what was done, for the task's log."""
    from shared.classifier.model import should_train

    settings = container.settings
    with container.stores.moderation_read() as session:
        current = store.latest(session)
        n_ham, n_spam = store.counts(session)
        changed = store.changed_since(session, current[1] if current else None)
        if not should_train(
            n_ham,
            n_spam,
            changed if not force else settings.classifier_retrain_every,
            current is not None,
            settings.classifier_min_examples,
            settings.classifier_retrain_every,
        ):
            return {"trained": False, "ham": n_ham, "spam": n_spam, "changed": changed}
        examples, through = store.training_set(session, MAX_EXAMPLES)
    started = time.perf_counter()
    model = train_examples(examples)
    version = (current[0] if current else 0) + 1
    try:
        with session_scope(container.stores.moderation) as session:
            store.save_model(session, model, version, through)
    except IntegrityError:
        log.info("classifier version stored by another trainer", extra={"version": version})
        return {"trained": False, "why": f"version {version} stored by another trainer"}
    container.classifier_cache.invalidate()
    done = {
        "trained": True,
        "version": version,
        "ham": model.n_ham,
        "spam": model.n_spam,
        "seconds": round(time.perf_counter() - started, 2),
    }
    log.info("classifier trained", extra=done)
    return done


def train_examples(examples: list[tuple[str, str, str | None, int]]):
    """A model, with its learning curve in ``metrics``, from (text, author name, author
    url, label) examples, oldest first."""
    from shared.classifier.features import DEFAULT_PARAMS, Doc, Featurizer
    from shared.classifier.model import learning_curve, train_matrix

    docs = [Doc(text, name, url) for text, name, url, _ in examples]
    labels = [label for *_, label in examples]
    X = Featurizer(DEFAULT_PARAMS).transform(docs)
    model = train_matrix(X, labels, DEFAULT_PARAMS)
    model.metrics = {"examples": len(labels), "learning_curve": learning_curve(X, labels)}
    return model
