"""Evidence-weighted choice: a component that keeps alarming on a series is discounted there."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.ensemble import MaxEnsemble
from selfheal_ml.anomaly.selection import EvidenceEnsemble


class Scripted(Detector):
    """Plays back a score per point (already calibrated)."""

    output_is_calibrated = True

    def __init__(self, scores: tuple[float, ...]) -> None:
        self.scores = scores
        self._index = 0

    def score_one(self, x: Mapping[str, float]) -> float:
        return self.scores[self._index % len(self.scores)]

    def learn_one(self, x: Mapping[str, float]) -> None:
        self._index += 1


def run(ensemble: MaxEnsemble, n_points: int) -> list[tuple[float, str]]:
    out = []
    for step in range(n_points):
        point = {"value": float(step)}
        out.append((ensemble.score_one(point), ensemble.component()))
        ensemble.learn_one(point)
    return out


def test_a_noisy_component_loses_its_say_and_a_quiet_one_keeps_it() -> None:
    noisy = Scripted((9.0, 0.0, 9.0, 0.0))  # crosses the level every other point
    quiet = Scripted((0.0,) * 99 + (9.0,))  # once in a hundred points
    ensemble = EvidenceEnsemble({"noisy": noisy, "quiet": quiet}, penalty=0.5, level=8.0)
    results = run(ensemble, 300)
    assert results[0] == (9.0, "noisy")  # no evidence yet: the plain maximum
    assert results[298][0] < 1.0  # the noisy one's 9 after 150 exceedances
    # the quiet one's third 9 in 300 points, after two exceedances: 9 / (1 + 0.5 * 1.9)
    assert results[299][1] == "quiet" and results[299][0] > 4.0


def test_penalty_zero_is_the_plain_maximum() -> None:
    rng = np.random.default_rng(0)
    left = tuple(rng.uniform(0.0, 10.0, 50).tolist())
    right = tuple(rng.uniform(0.0, 10.0, 50).tolist())
    plain = MaxEnsemble({"a": Scripted(left), "b": Scripted(right)})
    weighted = EvidenceEnsemble({"a": Scripted(left), "b": Scripted(right)}, penalty=0.0)
    assert run(plain, 120) == run(weighted, 120)


def test_the_evidence_candidates_score_timed_points_through_the_pipeline() -> None:
    """The grid's evidence-weighted candidates on points with a time, as the NAB evaluation
    and the service score them: each point scored then learned, with no recursion through
    the plain maximum's fused value path, and a spike still stands out."""
    from selfheal_ml.anomaly.batch import score_series
    from selfheal_ml.anomaly.tuning import TUNING_GRID

    evidence = sorted(name for name in TUNING_GRID if not name.endswith("-e0"))
    assert evidence  # the grid still has evidence-weighted candidates
    values = np.r_[100.0 + np.sin(np.arange(1500) / 10.0), [400.0]]
    for name in evidence:
        scores = score_series(name, np.arange(values.size) * 60.0, values)
        assert scores[-1] > scores[:-1].max(), name
