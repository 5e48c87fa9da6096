"""The vectorised threshold sweep equals trying every threshold one by one."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml.evaluation import nab


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("profile", sorted(nab.PROFILES))
def test_sweep_matches_brute_force(seed: int, profile: str) -> None:
    rng = np.random.default_rng(seed)
    files = []
    for _ in range(3):
        scores = np.round(rng.uniform(0.0, 1.0, 300), 2)  # rounded: many tied levels
        start = int(rng.integers(60, 200))
        windows = [(start, start + 20), (start + 60, start + 80)]
        files.append(nab.LabelledFile.build(scores, windows))
    weights = nab.PROFILES[profile]
    result = nab.sweep(files, weights)
    candidates = [np.inf, *sorted({float(s) for f in files for s in f.scores}, reverse=True)]
    totals = [sum(nab.file_score(f, t, weights) for f in files) for t in candidates]
    best = int(np.argmax(totals))
    assert result.raw_score == pytest.approx(totals[best])
    assert result.threshold == candidates[best]
