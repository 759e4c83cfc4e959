"""Labelled examples and model versions in the moderation store.

Functions take the caller's session: a moderator's label is written in the same unit of
work as the decision it comes from (:func:`learn_from_action`), so the two commit
together or not at all. Nothing here imports numpy or scikit-learn until a model is
saved or loaded: the api and dashboard load this module, not the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from shared.models import utcnow
from shared.models.moderation_store import ClassifierModel, TrainingExample

if TYPE_CHECKING:
    from shared.classifier.dataset import Row
    from shared.classifier.model import Model

SOURCES = ("moderator", "reversal", "import", "csv")
ACTION_LABELS = {"approve": 0, "spam": 1}
KEEP_VERSIONS = 5  # older model versions are deleted after each training
CHUNK = 500


def _fields(comment: Any) -> dict:
    return {
        "text": comment.content or "",
        "author_name": (comment.author_name or "")[:100],
        "author_url": comment.author_url or None,
    }


def record_label(session: Session, comment: Any, label: int, source: str = "moderator") -> str:
    """The comment's example, labelled ``label``: added, relabelled (a reversal: its
    label and source change) or left alone when the label is the same. Returns
    ``"added"``, ``"reversed"`` or ``"unchanged"``."""
    if label not in (0, 1) or source not in SOURCES:
        raise ValueError(f"bad label {label!r} or source {source!r}")
    now = utcnow()
    current = session.execute(
        select(TrainingExample.id, TrainingExample.label).where(
            TrainingExample.comment_id == comment.id
        )
    ).first()
    if current is None:
        session.execute(
            insert(TrainingExample).values(
                comment_id=comment.id,
                label=label,
                source=source,
                created_at=now,
                updated_at=now,
                **_fields(comment),
            )
        )
        return "added"
    if current.label == label:
        return "unchanged"
    session.execute(
        update(TrainingExample)
        .where(TrainingExample.id == current.id)
        .values(label=label, source="reversal", updated_at=now, **_fields(comment))
    )
    return "reversed"


def learn_from_action(session: Session, comment: Any, action: str) -> str | None:
    """A moderator's action as a label: approve is ham, spam is spam. A rejection says
    "not here", not "spam": it withdraws the comment's example, if any."""
    if action in ACTION_LABELS:
        return record_label(session, comment, ACTION_LABELS[action])
    if action == "reject":
        session.execute(delete(TrainingExample).where(TrainingExample.comment_id == comment.id))
        return "withdrawn"
    return None


def record_imported(session: Session, comment: Any, spam: bool) -> str:
    """An imported comment whose status is known (published or spam) as an example; for
    the importers (docs/contract.md §8 ``parley import``)."""
    return record_label(session, comment, int(spam), source="import")


def import_rows(session: Session, rows: Sequence[Row]) -> tuple[int, int]:
    """Labelled rows of a file (source ``csv``), each once: those whose digest is stored
    already, or repeated in the file, are skipped. Returns (added, skipped)."""
    seen: dict[str, Row] = {}
    for row in rows:
        seen.setdefault(row.digest(), row)
    digests = list(seen)
    stored: set[str] = set()
    for start in range(0, len(digests), CHUNK):
        part = digests[start : start + CHUNK]
        stored.update(
            session.scalars(select(TrainingExample.digest).where(TrainingExample.digest.in_(part)))
        )
    now = utcnow()
    new = [
        {
            "digest": digest,
            "text": row.text,
            "author_name": row.author_name[:100],
            "author_url": row.author_url,
            "label": row.label,
            "source": "csv",
            "created_at": now,
            "updated_at": now,
        }
        for digest, row in seen.items()
        if digest not in stored
    ]
    for start in range(0, len(new), CHUNK):
        session.execute(insert(TrainingExample), new[start : start + CHUNK])
    return len(new), len(rows) - len(new)


def counts(session: Session) -> tuple[int, int]:
    """Examples stored, (ham, spam)."""
    by_label = dict(
        session.execute(
            select(TrainingExample.label, func.count()).group_by(TrainingExample.label)
        ).all()
    )
    return by_label.get(0, 0), by_label.get(1, 0)


def changed_since(session: Session, through: datetime | None) -> int:
    """Examples added or relabelled after ``through`` (all of them for None)."""
    query = select(func.count()).select_from(TrainingExample)
    if through is not None:
        query = query.where(TrainingExample.updated_at > through)
    return session.scalar(query) or 0


def training_set(
    session: Session, limit: int
) -> tuple[list[tuple[str, str, str | None, int]], datetime | None]:
    """The ``limit`` most recently labelled examples as (text, author name, author url,
    label), oldest first, and the newest one's ``updated_at``."""
    rows = session.execute(
        select(
            TrainingExample.text,
            TrainingExample.author_name,
            TrainingExample.author_url,
            TrainingExample.label,
            TrainingExample.updated_at,
        )
        .order_by(TrainingExample.updated_at.desc(), TrainingExample.id.desc())
        .limit(limit)
    ).all()
    rows.reverse()
    through = rows[-1].updated_at if rows else None
    return [(r.text, r.author_name or "", r.author_url, r.label) for r in rows], through


def latest(session: Session) -> tuple[int, datetime | None] | None:
    """The newest model's version and ``labels_through``, or None before the first."""
    row = session.execute(
        select(ClassifierModel.version, ClassifierModel.labels_through)
        .order_by(ClassifierModel.version.desc())
        .limit(1)
    ).first()
    return (row.version, row.labels_through) if row else None


def latest_version(session: Session) -> int | None:
    """The newest model's version (one cheap aggregate), or None."""
    return session.scalar(select(func.max(ClassifierModel.version)))


def save_model(
    session: Session, model: Model, version: int, labels_through: datetime | None
) -> None:
    """Store ``model`` as ``version`` (the caller's next; the primary key refuses a
    version another trainer stored first) and drop the versions past :data:`KEEP_VERSIONS`."""
    from shared.classifier.codec import encode

    params, blob = encode(model)
    session.execute(
        insert(ClassifierModel).values(
            version=version,
            trained_at=utcnow(),
            labels_through=labels_through,
            n_ham=model.n_ham,
            n_spam=model.n_spam,
            params=params,
            coef=blob,
            metrics=model.metrics,
        )
    )
    session.execute(
        delete(ClassifierModel).where(ClassifierModel.version <= version - KEEP_VERSIONS)
    )


def load_model(session: Session, version: int | None = None) -> Model | None:
    """The stored model ``version`` (default: the newest), or None if there is none.
    Raises :class:`shared.classifier.codec.CorruptModel` for one that cannot be trusted."""
    from shared.classifier.codec import decode

    query = select(ClassifierModel)
    if version is None:
        query = query.order_by(ClassifierModel.version.desc()).limit(1)
    else:
        query = query.where(ClassifierModel.version == version)
    row = session.scalar(query)
    if row is None:
        return None
    return decode(
        row.params,
        row.coef,
        version=row.version,
        n_ham=row.n_ham,
        n_spam=row.n_spam,
        metrics=dict(row.metrics or {}),
    )


def example_labels(session: Session, comment_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
    """{comment id: (label, source)} of those comments that have an example."""
    ids = list(comment_ids)
    return {
        row.comment_id: (row.label, row.source)
        for row in session.execute(
            select(TrainingExample.comment_id, TrainingExample.label, TrainingExample.source).where(
                TrainingExample.comment_id.in_(ids)
            )
        )
    }


def imported_example(
    comment_id: str, content: str, author_name: str, author_url: str | None, spam: bool, now
) -> dict:
    """The values of an imported comment's example (source ``import``), for the importers'
    batch inserts (docs/contract.md §8 ``parley import``): what :func:`record_imported`
    stores, without a query per comment."""
    return {
        "comment_id": comment_id,
        "digest": None,
        "text": content,
        "author_name": (author_name or "")[:100],
        "author_url": author_url or None,
        "label": int(spam),
        "source": "import",
        "created_at": now,
        "updated_at": now,
    }
