"""What the classifier looks at: hashed word and character n-grams of the text, and the
author's name and website.

Hashing keeps the model's size fixed whatever the vocabulary (no vocabulary is stored,
none grows): each n-gram lands in one of ``n_features`` columns of its block.
``alternate_sign=False`` keeps every column's value non-negative, so a column's weight
says plainly which way the n-gram pushes (see :mod:`.explain`).

The parameters are plain JSON, stored with each model version and checked here against
a closed list before anything is built from them: a database row names settings, never
code (no pickle, no regular expression of its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

FORMAT = 1
# Word tokens of two or more letters or digits; the author block's tokens are whole
# "n:word" / "h:host" items.
TOKEN_PATTERNS = {"word": r"(?u)\b\w\w+\b", "item": r"\S+"}
ANALYZERS = ("word", "char_wb")
FIELDS = ("text", "meta")

DEFAULT_PARAMS: dict = {
    "format": FORMAT,
    "blocks": [
        {"field": "text", "analyzer": "word", "token": "word", "ngram": [1, 2], "bits": 18},
        {"field": "text", "analyzer": "char_wb", "token": "word", "ngram": [2, 5], "bits": 18},
        {"field": "meta", "analyzer": "word", "token": "item", "ngram": [1, 1], "bits": 14},
    ],
}


@dataclass(frozen=True)
class Doc:
    """One comment as the classifier sees it."""

    text: str
    author_name: str = ""
    author_url: str | None = None

    def meta(self) -> str:
        """The author block's items: ``n:<word>`` per word of the name, ``h:<host>`` and
        ``d:<last two labels>`` of the website."""
        items = [f"n:{word}" for word in self.author_name.casefold().split()[:10]]
        if self.author_url:
            try:
                host = (urlsplit(self.author_url.strip()).hostname or "").rstrip(".")
            except ValueError:
                host = ""
            if host:
                items += [f"h:{host}", "d:" + ".".join(host.split(".")[-2:])]
        return " ".join(items)


def check_params(params: object) -> dict:
    """``params`` if it is a feature description this module builds, else ValueError."""
    if not isinstance(params, dict) or params.get("format") != FORMAT:
        raise ValueError("unknown feature format")
    if not set(params) <= {"format", "blocks", "learner"} or not isinstance(
        params.get("learner", ""), str
    ):
        raise ValueError("unknown model parameters")
    blocks = params.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 8:
        raise ValueError("feature blocks must be a list of 1 to 8")
    for block in blocks:
        if not isinstance(block, dict) or set(block) != {
            "field",
            "analyzer",
            "token",
            "ngram",
            "bits",
        }:
            raise ValueError(f"bad feature block {block!r}")
        low, high = block["ngram"] if isinstance(block["ngram"], list) else (0, 0)
        if not (
            block["field"] in FIELDS
            and block["analyzer"] in ANALYZERS
            and block["token"] in TOKEN_PATTERNS
            and type(low) is int
            and type(high) is int
            and 1 <= low <= high <= 6
            and type(block["bits"]) is int
            and 8 <= block["bits"] <= 20
        ):
            raise ValueError(f"bad feature block {block!r}")
    return params


def vectorizers(params: dict) -> list[HashingVectorizer]:
    """The (stateless) vectorizers of each block, from checked parameters."""
    check_params(params)
    return [
        HashingVectorizer(
            analyzer=block["analyzer"],
            token_pattern=TOKEN_PATTERNS[block["token"]],
            ngram_range=tuple(block["ngram"]),
            n_features=2 ** block["bits"],
            alternate_sign=False,
            norm="l2",
            lowercase=True,
            dtype=np.float32,
        )
        for block in params["blocks"]
    ]


def width(params: dict) -> int:
    """Columns of the whole feature space (every block side by side)."""
    return sum(2 ** block["bits"] for block in params["blocks"])


def field_values(params: dict, docs: Sequence[Doc]) -> list[list[str]]:
    """Per block, the strings it reads from each document."""
    cache = {"text": [d.text for d in docs], "meta": [d.meta() for d in docs]}
    return [cache[block["field"]] for block in params["blocks"]]


def column(gram: str, n_features: int) -> int:
    """The column of one n-gram, as scikit-learn's hashing vectorizer places it (signed
    32-bit MurmurHash3 of its UTF-8 bytes, seed 0; absolute value modulo the width)."""
    h = murmurhash3_32(gram, 0)
    if h == -(2**31):
        return (2**31 - 1 - (n_features - 1)) % n_features
    return abs(h) % n_features


def _counts(columns: np.ndarray) -> np.ndarray:
    """How often each distinct value occurs (sorted by value): np.unique's counts, without
    its overhead on the small arrays of one comment."""
    if not len(columns):
        return np.zeros(0)
    ordered = np.sort(columns)
    edges = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    return np.diff(np.concatenate(([0], edges, [len(ordered)]))).astype(np.float64)


@dataclass(frozen=True)
class Part:
    """One block's n-grams of one document, grouped in units a reader can name: a word
    block's units are its n-grams, a character block's the whitespace-separated chunks
    whose n-grams they are, the author block's its items. ``columns`` holds every unit's
    columns one after the other (``sizes`` of them per unit), within the block; ``norm``
    is the l2 norm of the block's counts, which every occurrence is divided by."""

    offset: int
    units: list[str]
    columns: np.ndarray
    sizes: np.ndarray
    norm: float

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """The block's distinct columns (offset added) and their l2-normalised counts."""
        cols, counts = np.unique(self.columns, return_counts=True)
        return cols + self.offset, counts.astype(np.float64) / self.norm


def _part(offset: int, units: list[str], cols: np.ndarray, sizes: np.ndarray) -> Part:
    norm = float(np.sqrt(np.sum(_counts(cols) ** 2))) or 1.0
    return Part(offset, units, cols, sizes, norm)


CACHE_ITEMS = 20_000  # per block: the columns of this many distinct chunks or n-grams (a few MB)


class Featurizer:
    """Documents to one sparse row each: the blocks side by side."""

    def __init__(self, params: dict):
        self.params = check_params(params)
        self.vectorizers = vectorizers(params)
        self.offsets = [
            int(o) for o in np.cumsum([0] + [2 ** b["bits"] for b in params["blocks"]])[:-1]
        ]
        self.analyzers = [vec.build_analyzer() for vec in self.vectorizers]
        self.preprocessors = [vec.build_preprocessor() for vec in self.vectorizers]
        # Per block, chunk or n-gram -> its columns: words recur, so most of a comment's
        # are hashed once per process (bounded: emptied when full).
        self._cache: list[dict[str, np.ndarray | int]] = [{} for _ in params["blocks"]]

    def _chunk(self, block: int, chunk: str) -> np.ndarray:
        cache = self._cache[block]
        cols = cache.get(chunk)
        if cols is None:
            if len(cache) >= CACHE_ITEMS:
                cache.clear()
            n = 2 ** self.params["blocks"][block]["bits"]
            cols = np.fromiter((column(g, n) for g in self.analyzers[block](chunk)), np.int64)
            cache[chunk] = cols
        return cols  # type: ignore[return-value]

    def _grams(self, block: int, grams: list[str]) -> np.ndarray:
        cache = self._cache[block]
        if len(cache) >= CACHE_ITEMS:
            cache.clear()
        n = 2 ** self.params["blocks"][block]["bits"]
        found = []
        for gram in grams:
            col = cache.get(gram)
            if col is None:
                col = cache[gram] = column(gram, n)
            found.append(col)
        return np.array(found, dtype=np.int64)

    def parts(self, doc: Doc) -> list[Part]:
        """One document's n-grams by block, as :class:`Part` (what scoring and the
        explanation both read, computed once)."""
        found = []
        meta = None
        for block, spec in enumerate(self.params["blocks"]):
            offset = self.offsets[block]
            if spec["field"] == "meta":
                meta = doc.meta() if meta is None else meta
                text = meta
            else:
                text = doc.text
            if spec["analyzer"] == "char_wb":
                units = self.preprocessors[block](text).split()
                chunks = [self._chunk(block, unit) for unit in units]
                sizes = np.fromiter((len(c) for c in chunks), np.int64, len(chunks))
                cols = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
            else:
                units = self.analyzers[block](text)
                cols = self._grams(block, units)
                sizes = np.ones(len(units), np.int64)
            found.append(_part(offset, units, cols, sizes))
        return found

    def row(self, doc: Doc, parts: list[Part] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One document's non-zero columns and values, the same as :meth:`transform`'s
        row but without its per-call overhead (a tenth of a millisecond, not one): the
        live pipeline scores comments one at a time."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for part in parts if parts is not None else self.parts(doc):
            if len(part.columns):
                cols, vals = part.values()
                columns.append(cols)
                values.append(vals)
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def transform(self, docs: Iterable[Doc]) -> sp.csr_matrix:
        docs = list(docs)
        parts = [
            vec.transform(values)
            for vec, values in zip(self.vectorizers, field_values(self.params, docs), strict=True)
        ]
        return sp.hstack(parts, format="csr", dtype=np.float32)
