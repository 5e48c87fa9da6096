"""Hashed character n-grams of normalised request text, computed in bulk with numpy.

scikit-learn's ``TfidfVectorizer(analyzer="char")`` builds every n-gram as a Python string:
on whole CSIC requests (300-600 characters) it manages a few thousand requests per second,
too slow for a classifier that must score >= 20k requests/s. :class:`HashedCharNgrams` does
the same job on bytes: every text is normalised (:func:`normalise_text`), encoded as UTF-8,
all texts are concatenated, and the n-grams of every length ``ngram_min..ngram_max`` are
hashed with a rolling polynomial hash over the whole batch at once (n-grams that would cross
from one text into the next are dropped). Counts land in ``2**bits`` columns, then get
sublinear term frequency (``1 + log(count)``) and unit length per row, like
``TfidfVectorizer(sublinear_tf=True, use_idf=False)``.

Stateless (no vocabulary, nothing learned), so ``fit`` only validates the parameters; the
object persists with skops as plain parameters.

>>> features = HashedCharNgrams(ngram_min=1, ngram_max=3, bits=12).fit_transform(
...     ["' OR 1=1--", "%27+or+1%3D1--", "hello"])
>>> features.shape
(3, 4096)
>>> bool(abs(features[0] - features[1]).sum() == 0)  # same text after decoding
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.ngram_hashing import hashed_cells
from selfheal_ml.security.request_text import as_texts


class HashedCharNgrams(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Sublinear-tf, L2-normalised hashed byte n-grams of normalised text (see module)."""

    def __init__(
        self, ngram_min: int = 1, ngram_max: int = 5, bits: int = 20, normalise: bool = True
    ) -> None:
        self.ngram_min = ngram_min
        self.ngram_max = ngram_max
        self.bits = bits
        self.normalise = normalise

    def fit(self, texts: Any, labels: Any = None) -> HashedCharNgrams:
        """Validate the parameters (nothing is learned)."""
        if not 1 <= self.ngram_min <= self.ngram_max <= 8:
            raise ValidationError(
                "ngram_min/ngram_max",
                f"expected 1 <= ngram_min <= ngram_max <= 8,"
                f" got {self.ngram_min}..{self.ngram_max}",
            )
        if not 8 <= self.bits <= 24:
            raise ValidationError("bits", f"expected 8 <= bits <= 24, got {self.bits}")
        self.n_features_out_ = 1 << self.bits
        return self

    def transform(self, texts: Any) -> sp.csr_matrix:
        """The feature matrix (one row per text, ``2**bits`` columns)."""
        width = 1 << self.bits
        items = as_texts(texts)
        rows, columns = hashed_cells(
            items, self.ngram_min, self.ngram_max, self.bits, normalise=self.normalise
        )
        return _sublinear_unit_rows(rows, columns, len(items), width)


def _sublinear_unit_rows(
    all_rows: np.ndarray, all_columns: np.ndarray, count: int, width: int
) -> sp.csr_matrix:
    """Counts per (row, column), as ``1 + log(count)`` scaled to unit rows.

    The cells of each n-gram length are already in row order, so a stable sort (timsort
    merging a few sorted runs) groups the entries by row cheaply; adding an empty matrix then
    merges duplicate columns without sorting them.
    """
    order = np.argsort(all_rows, kind="stable")
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_rows, minlength=count), out=indptr[1:])
    grouped = sp.csr_matrix(
        (np.ones(len(order), dtype=np.float64), all_columns[order], indptr), shape=(count, width)
    )
    counts = grouped + sp.csr_matrix((count, width), dtype=np.float64)
    np.log(counts.data, out=counts.data)
    counts.data += 1.0
    per_row = np.diff(counts.indptr)
    owners = np.repeat(np.arange(count), per_row)
    norms = np.sqrt(np.bincount(owners, weights=counts.data**2, minlength=count))
    norms[norms == 0.0] = 1.0
    counts.data /= np.repeat(norms, per_row)
    return counts
