"""Held-out selection and its nested estimate, on small random corpora."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml.evaluation import model_selection, nab

PROFILE = nab.PROFILES["standard"]


def corpus(rng: np.random.Generator) -> dict[str, nab.LabelledFile]:
    files = {}
    for group in ("a", "b", "c"):
        for index in range(2):
            scores = rng.uniform(0.0, 0.6, 200)
            start = int(rng.integers(60, 180))
            scores[start + int(rng.integers(0, 10))] = rng.uniform(0.4, 1.0)
            files[f"{group}/{index}.csv"] = nab.LabelledFile.build(scores, [(start, start + 15)])
    return files


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_selection_maximises_the_held_out_score(seed: int) -> None:
    rng = np.random.default_rng(seed)
    results = {f"candidate{index}": corpus(rng) for index in range(4)}
    chosen = model_selection.select(results, PROFILE)
    held_out = {
        name: model_selection.held_out_score(files, PROFILE) for name, files in results.items()
    }
    assert held_out[chosen] == max(held_out.values())


@pytest.mark.parametrize("seed", [3, 4])
def test_nested_estimate_of_one_candidate_is_its_held_out_score(seed: int) -> None:
    files = corpus(np.random.default_rng(seed))
    nested = model_selection.nested_cross_validate({"only": files}, PROFILE)
    assert nested.score == pytest.approx(model_selection.held_out_score(files, PROFILE))
    assert set(nested.choices) == {"a", "b", "c"}


def test_nested_estimate_never_beats_choosing_in_hindsight() -> None:
    rng = np.random.default_rng(5)
    results = {f"candidate{index}": corpus(rng) for index in range(5)}
    nested = model_selection.nested_cross_validate(results, PROFILE)
    best_in_sample = max(
        nab.sweep(list(files.values()), PROFILE).normalised_score for files in results.values()
    )
    assert nested.score <= best_in_sample
