"""A model as JSON and numpy bytes, never pickle: a database row names numbers and
settings, and nothing in it can run code when loaded.

The weights are stored sparse (most columns of the hashed space are never seen): the
non-zero columns as int32 and their weights as float32, each written by ``np.save`` with
``allow_pickle=False`` and read back the same way, one after the other in one blob. The
JSON says the feature settings (checked by :func:`shared.classifier.features.check_params`),
the intercept, and the arrays' count and types, which must match what the blob holds.
"""

from __future__ import annotations

import io
import math

import numpy as np

from shared.classifier.features import check_params, width
from shared.classifier.model import LEARNERS, Model

FORMAT = 1


class CorruptModel(ValueError):
    """A stored model that cannot be trusted (tampered, truncated or of an unknown form)."""


def encode(model: Model) -> tuple[dict, bytes]:
    """The JSON parameters and the weights blob of ``model``."""
    (columns,) = np.nonzero(model.coef)
    buffer = io.BytesIO()
    np.save(buffer, columns.astype(np.int32), allow_pickle=False)
    np.save(buffer, model.coef[columns].astype(np.float32), allow_pickle=False)
    params = {
        "format": FORMAT,
        "model": model.params,
        "intercept": float(model.intercept),
        "coef": {"count": int(len(columns)), "columns": "int32", "weights": "float32"},
    }
    return params, buffer.getvalue()


def _array(buffer: io.BytesIO, dtype: str, count: int) -> np.ndarray:
    try:
        array = np.load(buffer, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable blob is a corrupt model
        raise CorruptModel(f"unreadable weights ({type(exc).__name__})") from None
    if not isinstance(array, np.ndarray) or array.dtype != np.dtype(dtype):
        raise CorruptModel("weights of an unexpected type")
    if array.shape != (count,):
        raise CorruptModel("weights of an unexpected shape")
    return array


def decode(params: object, blob: bytes, **fields) -> Model:
    """The model stored as ``params`` and ``blob`` (``fields``: version, n_ham, n_spam,
    metrics), or :class:`CorruptModel`."""
    try:
        if not isinstance(params, dict) or params.get("format") != FORMAT:
            raise CorruptModel("unknown model format")
        features = check_params(params.get("model"))
        if features.get("learner", "logreg") not in LEARNERS:
            raise CorruptModel("unknown learner")
        intercept, coef = params.get("intercept"), params.get("coef")
        if type(intercept) not in (int, float) or not math.isfinite(intercept):
            raise CorruptModel("bad intercept")
        if (
            not isinstance(coef, dict)
            or coef.get("columns") != "int32"
            or (coef.get("weights") != "float32")
        ):
            raise CorruptModel("bad weights description")
        count = coef.get("count")
        if type(count) is not int or not 0 <= count <= width(features):
            raise CorruptModel("bad weights count")
    except ValueError as exc:
        raise CorruptModel(str(exc)) from None
    buffer = io.BytesIO(bytes(blob))
    columns = _array(buffer, "int32", count)
    weights = _array(buffer, "float32", count)
    if buffer.read(1):
        raise CorruptModel("trailing bytes after the weights")
    if count and (columns.min() < 0 or columns.max() >= width(features)):
        raise CorruptModel("a weight outside the feature space")
    if not np.all(np.isfinite(weights)):
        raise CorruptModel("a weight that is not a number")
    dense = np.zeros(width(features), dtype=np.float32)
    dense[columns] = weights
    return Model(features, dense, float(intercept), **fields)
