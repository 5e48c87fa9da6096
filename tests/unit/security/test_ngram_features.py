"""Hashed n-grams equal a straightforward count, stay inside each text, and decode first."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.ngram_features import HashedCharNgrams


def _reference_row(text: str, low: int, high: int) -> list[float]:
    """Sorted non-zero values a plain Python count gives (hash collisions aside)."""
    data = text.encode()
    counts = Counter(
        data[i : i + n] for n in range(low, high + 1) for i in range(len(data) - n + 1)
    )
    values = np.array([1.0 + math.log(count) for count in counts.values()])
    return sorted((values / np.linalg.norm(values)).round(9).tolist())


@pytest.mark.parametrize("text", ["abcabc", "x", "union select", "aaaa"])
def test_values_match_a_plain_count(text: str) -> None:
    matrix = HashedCharNgrams(ngram_min=1, ngram_max=3, bits=20).fit_transform([text])
    assert sorted(matrix.data.round(9).tolist()) == _reference_row(text, 1, 3)


def test_ngrams_never_cross_from_one_text_into_the_next() -> None:
    vectoriser = HashedCharNgrams(ngram_min=2, ngram_max=4, bits=16).fit([])
    together = vectoriser.transform(["ab", "cd", ""])
    alone = [vectoriser.transform([text]) for text in ("ab", "cd")]
    assert (abs(together[0] - alone[0][0]).sum(), abs(together[1] - alone[1][0]).sum()) == (0, 0)
    assert together[2].nnz == 0


def test_accepts_a_one_column_frame_and_refuses_bad_parameters() -> None:
    frame = pd.DataFrame({"text": ["a b", "c"]})
    assert HashedCharNgrams(bits=10).fit_transform(frame).shape == (2, 1024)
    with pytest.raises(ValidationError, match="ngram"):
        HashedCharNgrams(ngram_min=3, ngram_max=2).fit([])
    with pytest.raises(ValidationError, match="one text column"):
        HashedCharNgrams(bits=10).fit([]).transform(pd.DataFrame({"a": [1], "b": [2]}))
