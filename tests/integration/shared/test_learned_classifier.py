"""The learned classifier against the real stores: moderators' decisions become examples
(a reversal updates its one), beat's retraining stores versions every worker picks up,
the pipeline's reason, trial and off, a tampered model, ``parley train import``, and the
``parley_classifier_version`` gauge."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from shared.classifier import store, training
from shared.classifier.dataset import Row
from shared.db import session_scope
from shared.models import Comment
from shared.models.moderation_store import ClassifierModel, TrainingExample
from shared.moderation import actions, pipeline
from shared.ops.collector import render_metrics
from tests.support.corpus import comments, write_csv
from tests.support.factories import LINKS, letters, open_article, submit_in_process

SLUG = "istanbul-talks"
SPAM_TEXT = "Great post! Buy cheap viagra online without prescription https://bestpills.top/p-1"


def examples(n_ham: int, n_spam: int, seed: int = 1) -> list[Row]:
    return [
        Row(r["text"], r["label"], r["author_name"], "", r["author_url"] or None)
        for r in comments(n_ham, n_spam, seed)
    ]


def import_examples(container, rows: list[Row]) -> tuple[int, int]:
    with session_scope(container.stores.moderation) as session:
        return store.import_rows(session, rows)


def checked(container, content: str, n: int = 0) -> Comment:
    """A comment submitted and checked in process; its row."""
    open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/istanbul")
    cid = submit_in_process(container, SLUG, content, email=f"reader{letters(n)}@example.org")
    pipeline.check_comment(container, cid)
    with container.stores.moderation_read() as session:
        return session.get(Comment, cid)


def example_rows(container) -> list[tuple]:
    with container.stores.moderation_read() as session:
        return session.execute(
            select(TrainingExample.comment_id, TrainingExample.label, TrainingExample.source)
            .where(TrainingExample.comment_id.is_not(None))
            .order_by(TrainingExample.id)
        ).all()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_moderators_decisions_become_examples_and_a_reversal_updates_one(backend, make_container):
    container = make_container()
    first = checked(container, f"{LINKS} (one)", 1)
    second = checked(container, f"{LINKS} (two)", 2)
    assert (first.status, second.status) == ("held", "held")
    assert example_rows(container) == []  # the pipeline's own verdicts are not labels

    actions.moderate(container, first.id, "approve", "mod@news.example")
    actions.moderate(container, second.id, "spam", "mod@news.example")
    assert example_rows(container) == [(first.id, 0, "moderator"), (second.id, 1, "moderator")]

    # The moderator changes their mind: the same example, relabelled.
    actions.moderate(container, first.id, "spam", "mod@news.example")
    assert example_rows(container) == [(first.id, 1, "reversal"), (second.id, 1, "moderator")]
    with container.stores.moderation_read() as session:
        assert store.changed_since(session, None) == 2

    # A rejection is "not here", not "spam": its label is withdrawn.
    actions.moderate(container, second.id, "reject", "mod@news.example")
    assert example_rows(container) == [(first.id, 1, "reversal")]


def test_a_refused_action_records_no_label(container):
    comment = checked(container, f"{LINKS} (three)", 3)
    actions.moderate(container, comment.id, "approve", "mod@news.example")
    with pytest.raises(actions.IllegalTransition):
        actions.moderate(container, comment.id, "approve", "mod@news.example")
    assert example_rows(container) == [(comment.id, 0, "moderator")]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_retraining_stores_versions_every_worker_picks_up(backend, make_container):
    container = make_container()
    other_host = make_container()  # another worker: a cache of its own
    with other_host.stores.moderation_read() as session:
        assert other_host.classifier_cache.get(session) is None

    # Cold start: too few spam, nothing trained.
    import_examples(container, examples(30, 5))
    assert training.retrain(container)["trained"] is False
    assert "classifier" not in [r["rule"] for r in checked(container, SPAM_TEXT).reasons]

    import_examples(container, examples(40, 40, seed=2))
    done = training.retrain(container)
    assert done["trained"] is True and done["version"] == 1
    with container.stores.moderation_read() as session:
        model = store.load_model(session)
        assert model.metrics["learning_curve"], "the curve is stored with the model"
        # Within the minute the other worker still scores with what it had...
        assert other_host.classifier_cache.get(session) is None
        other_host.classifier_cache.ttl = 0  # ...and once it looks again, the new version.
        assert other_host.classifier_cache.get(session).version == 1

    # Nothing new: beat's run is two counts and no training.
    assert training.retrain(container)["trained"] is False
    import_examples(container, examples(15, 15, seed=3))
    assert training.retrain(container)["version"] == 2
    with other_host.stores.moderation_read() as session:
        assert other_host.classifier_cache.get(session).version == 2

    # The pipeline's reason says the probability and the words.
    comment = checked(other_host, SPAM_TEXT, 4)
    reason = next(r for r in comment.reasons if r["rule"] == "classifier")
    assert reason["detail"].startswith("spam probability ")
    assert "pushed toward spam" in reason["detail"] and "model v2" in reason["detail"]
    assert reason["score"] == 3.0 and comment.status == "spam"
    assert "trial" not in reason


def test_versions_are_kept_few_and_a_version_is_stored_once(container):
    import_examples(container, examples(20, 20))
    for _ in range(store.KEEP_VERSIONS + 2):
        assert training.retrain(container, force=True)["trained"] is True
    with container.stores.moderation_read() as session:
        versions = session.scalars(select(ClassifierModel.version)).all()
        model = store.load_model(session)
    assert sorted(versions) == list(range(3, 3 + store.KEEP_VERSIONS))
    # Two trainers racing for the next version: the second insert is refused (the task
    # then drops its model, shared.classifier.training).
    with pytest.raises(IntegrityError):
        with session_scope(container.stores.moderation) as session:
            store.save_model(session, model, model.version, None)


def test_trial_shows_and_off_skips(make_container):
    on = make_container()
    import_examples(on, examples(40, 40))
    training.retrain(on)
    trial = make_container(classifier="trial")
    comment = checked(trial, SPAM_TEXT, 5)
    reason = next(r for r in comment.reasons if r["rule"] == "classifier")
    assert reason["trial"] is True and reason["score"] >= 1.0
    counted = [r["score"] for r in comment.reasons if not r.get("trial")]
    assert comment.score == pytest.approx(sum(counted))  # shown, not counted
    off = make_container(classifier="off")
    comment = checked(off, SPAM_TEXT + " (again)", 6)
    assert "classifier" not in [r["rule"] for r in comment.reasons]


def test_a_tampered_model_is_refused_and_checks_go_on(container, make_container, caplog):
    import_examples(container, examples(40, 40))
    training.retrain(container)
    with session_scope(container.stores.moderation) as session:
        session.execute(update(ClassifierModel).values(coef=b"\x80\x04not numpy"))
    worker = make_container()
    with caplog.at_level(logging.ERROR, logger="shared.classifier.cache"):
        comment = checked(worker, SPAM_TEXT, 7)
    assert comment.status in ("published", "held", "spam")
    assert "classifier" not in [r["rule"] for r in comment.reasons]
    assert "classifier model refused" in caplog.text


def count_examples(container) -> int:
    with container.stores.moderation_read() as session:
        return session.scalar(select(func.count()).select_from(TrainingExample))


def test_train_import_is_idempotent(parley, container, tmp_path):
    rows = comments(30, 20, seed=9)
    path = write_csv(tmp_path / "labelled.csv", rows + rows[:5])  # 5 repeated in the file
    first = parley("train", "import", str(path))
    assert first.exit_code == 0, first.output
    assert "50 examples stored, 5 already stored or repeated" in first.stdout
    again = parley("train", "import", str(path))
    assert again.exit_code == 0 and "0 examples stored, 55 already" in again.stdout
    assert count_examples(container) == 50
    with container.stores.moderation_read() as session:
        assert store.counts(session) == (30, 20)
        assert set(session.scalars(select(TrainingExample.source))) == {"csv"}

    # A bad file anywhere in it: exit 2, nothing stored.
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nfine,0\nnew and fine,1\nbroken,maybe\n")
    result = parley("train", "import", str(bad))
    assert result.exit_code == 2 and "line 4" in result.stderr
    assert count_examples(container) == 50

    trained = parley("train", "now")
    assert trained.exit_code == 0 and "classifier version 1" in trained.stdout


def test_the_version_gauge(container):
    def gauge() -> str:
        body, _ = render_metrics(container)
        return next(
            line for line in body.decode().splitlines() if line.startswith("parley_classifier")
        )

    assert gauge() == "parley_classifier_version 0.0"
    import_examples(container, examples(20, 20))
    training.retrain(container)
    assert gauge() == "parley_classifier_version 1.0"
