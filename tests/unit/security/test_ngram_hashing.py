"""The numpy rows the service scores are the SciPy matrix training fits on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.security.ngram_features import HashedCharNgrams
from selfheal_ml.security.ngram_hashing import hashed_cells, sublinear_unit_rows


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(max_size=60), min_size=1, max_size=8),
    sizes=st.tuples(st.integers(1, 4), st.integers(0, 3)),
    bits=st.integers(8, 16),
)
def test_rows_equal_the_training_matrix(
    texts: list[str], sizes: tuple[int, int], bits: int
) -> None:
    ngram_min, ngram_max = sizes[0], sizes[0] + sizes[1]
    matrix = HashedCharNgrams(ngram_min, ngram_max, bits).fit_transform(texts)
    rows, columns = hashed_cells(texts, ngram_min, ngram_max, bits, normalise=True)
    indptr, indices, data = sublinear_unit_rows(rows, columns, len(texts), 1 << bits)
    matrix.sort_indices()
    assert indptr.tolist() == matrix.indptr.tolist()
    assert indices.tolist() == matrix.indices.tolist()
    np.testing.assert_allclose(data, matrix.data, rtol=0, atol=1e-15)
