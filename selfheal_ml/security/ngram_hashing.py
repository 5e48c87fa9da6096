"""The hashing behind :class:`~selfheal_ml.security.ngram_features.HashedCharNgrams`, numpy only.

Split out of ``ngram_features`` (which subclasses scikit-learn's estimator bases and builds
SciPy sparse matrices) so the service can score requests with a served model without importing
scikit-learn or SciPy (``selfheal_ml.serving``). Training and serving call the same
:func:`hashed_cells`, so both see the same columns for the same text.

:func:`hashed_cells` gives, for a batch of texts, one (row, column) cell per n-gram occurrence;
:func:`sublinear_unit_rows` turns them into compressed rows (``indptr``, ``indices``, ``data``)
holding ``1 + log(count)`` per distinct column, scaled to unit length per row.

>>> rows, columns = hashed_cells(["ab", "b"], 1, 2, 8, normalise=False)
>>> rows.tolist()
[0, 0, 1, 0]
>>> indptr, indices, data = sublinear_unit_rows(rows, columns, 2, 256)
>>> indptr.tolist()
[0, 3, 4]
>>> round(float((data[:3] ** 2).sum()), 12)
1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfheal_ml.security.request_text import normalise_text

_MULTIPLIER = np.uint64(0x100000001B3)
_MIXER = np.uint64(0x9E3779B97F4A7C15)


def _encoded(texts: Sequence[str], normalise: bool) -> tuple[np.ndarray, np.ndarray]:
    """All texts' bytes concatenated, and each byte's text index."""
    prepared = [normalise_text(text) for text in texts] if normalise else list(texts)
    encoded = [text.encode("utf-8", "replace") for text in prepared]
    lengths = np.fromiter((len(chunk) for chunk in encoded), dtype=np.int64, count=len(texts))
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.uint64)
    owners = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    return data, owners


def hashed_cells(
    texts: Sequence[str], ngram_min: int, ngram_max: int, bits: int, *, normalise: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Row (text index) and column (hash in ``[0, 2**bits)``) of every n-gram occurrence.

    The n-grams of each length come out in row order, one length after the other; n-grams
    that would cross from one text into the next are dropped.
    """
    data, owners = _encoded(texts, normalise)
    rows: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    rolling = np.zeros(len(data), dtype=np.uint64)
    shift = np.uint64(64 - bits)
    for size in range(1, ngram_max + 1):
        count = len(data) - size + 1
        if count <= 0:
            break
        rolling = rolling[:count] * _MULTIPLIER + data[size - 1 : size - 1 + count]
        if size < ngram_min:
            continue
        inside = owners[:count] == owners[size - 1 : size - 1 + count]
        hashed = ((rolling[inside] + np.uint64(size)) * _MIXER) >> shift
        rows.append(owners[:count][inside])
        columns.append(hashed.astype(np.int64))
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(columns)


def sublinear_unit_rows(
    rows: np.ndarray, columns: np.ndarray, count: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of ``count`` rows: ``1 + log(count)`` per distinct (row,
    column), columns sorted within a row, each row scaled to unit length (empty rows stay
    empty)."""
    keys, counts = np.unique(rows * width + columns, return_counts=True)
    owners = keys // width
    data = np.log(counts.astype(np.float64)) + 1.0
    norms = np.sqrt(np.bincount(owners, weights=data**2, minlength=count))
    norms[norms == 0.0] = 1.0
    data /= norms[owners]
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(owners, minlength=count), out=indptr[1:])
    return indptr, keys % width, data
