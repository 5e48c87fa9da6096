"""The request classifier's text step in a serving form, without scikit-learn or SciPy.

:class:`HashedNgrams` is :class:`~selfheal_ml.security.ngram_features.HashedCharNgrams`'s
``transform`` on the same hashing code (:mod:`selfheal_ml.security.ngram_hashing`), giving
:class:`~selfheal_ml.serving.linear.SparseRows` instead of a SciPy matrix; a linear model of
:mod:`.linear` scores those rows.

>>> rows = HashedNgrams(ngram_min=1, ngram_max=3, bits=12, normalise=True).transform(
...     ["' OR 1=1--", "%27+or+1%3D1--"])
>>> rows.count, bool((rows.data[: rows.indptr[1]] == rows.data[rows.indptr[1] :]).all())
(2, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from selfheal_ml.security.ngram_hashing import hashed_cells, sublinear_unit_rows
from selfheal_ml.security.request_text import as_texts
from selfheal_ml.serving.linear import SparseRows


@dataclass(frozen=True)
class HashedNgrams:
    """Sublinear-tf, unit-length hashed byte n-grams of (normalised) text."""

    ngram_min: int
    ngram_max: int
    bits: int
    normalise: bool

    def transform(self, texts: Any) -> SparseRows:
        """One row per text, columns in ``[0, 2**bits)``."""
        items = as_texts(texts)
        rows, columns = hashed_cells(
            items, self.ngram_min, self.ngram_max, self.bits, normalise=self.normalise
        )
        indptr, indices, data = sublinear_unit_rows(rows, columns, len(items), 1 << self.bits)
        return SparseRows(indptr, indices, data)
