"""The young-series stages of the scorer: cold start, the young-series margin, and a replayed
history that warms without deciding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.anomaly import ColdStartScore, ScoringConfig, SeriesScorer, default_detector

LIVE = ScoringConfig(cold_start_points=300, young_points=2000)


def _scorer(config: ScoringConfig = LIVE) -> SeriesScorer:
    return SeriesScorer(default_detector(), config)


def test_cold_start_needs_a_lasting_departure() -> None:
    cold = ColdStartScore(min_points=10, retire_points=100, persist=3)
    for _ in range(20):
        cold.update(1.0)
    assert cold.update(0.0) == 0.0  # one point is not enough
    assert cold.update(1.0) == 0.0  # and the streak restarts
    assert [cold.update(0.0) > 8.0 for _ in range(3)] == [False, False, True]


def test_a_fault_that_ramps_in_does_not_walk_the_range_along() -> None:
    """Live, a cache's hit ratio slid from 0.93 over two minutes (24 points at 5 s) 90 s after
    a fresh start and was never flagged: each step lay inside the margin and was learned. The
    range now widens by at most 1 % of its spread a point, so the slide is flagged; a range
    free to walk (the old behaviour) absorbs it."""
    rng = np.random.default_rng(3)

    def slide(walk: float) -> list[float]:
        cold = ColdStartScore(min_points=24, retire_points=300, walk=walk)
        for _ in range(24):
            cold.update(0.93 + rng.normal(0.0, 0.01))
        return [cold.update(0.93 - 0.85 * min(1.0, k / 24)) for k in range(1, 49)]

    assert max(slide(0.01)) > 8.0
    assert max(slide(1e9)) == 0.0


@pytest.mark.parametrize("points", [2160, 360])
def test_a_daily_traffic_curve_is_not_a_departure(points: int) -> None:
    """Requests doubling over three hours, at a 5 s interval (2,160 points) or at 30 s (360),
    move the level by less than the walk a point: nothing is flagged while the cold start
    scores."""
    cold = ColdStartScore(min_points=24, retire_points=300)
    rng = np.random.default_rng(4)
    for k in range(300):
        level = 12.0 * (1.0 + k / points)
        assert cold.update(level + rng.normal(0.0, 1.0)) == 0.0


def test_cold_start_does_not_learn_what_it_flags() -> None:
    cold = ColdStartScore(min_points=10, retire_points=100, persist=1)
    for _ in range(20):
        cold.update(14.0)
    for _ in range(10):
        assert cold.update(0.0) > 8.0  # an outage never becomes the normal range


def test_cold_start_retires_and_counts_history() -> None:
    cold = ColdStartScore(min_points=10, retire_points=100, persist=1)
    cold.learn_many(np.full(99, 1.0))
    assert cold.active()
    assert cold.update(1.0) == 0.0
    assert cold.retired() and cold.update(1000.0) == 0.0


def test_cold_start_ignores_a_quantised_step_and_flags_gross_ones() -> None:
    """A p95 read off histogram buckets moves a bucket at a time (98 -> 120 ms, seen live on a
    healthy simulator): not a departure. Twentyfold latency or a drop to zero is."""
    for departure, flagged in ((120.0, False), (150.0, True), (2000.0, True), (0.0, True)):
        cold = ColdStartScore(min_points=10, retire_points=300, persist=3)
        for _ in range(60):
            cold.update(98.4)
        scores = [cold.update(departure) for _ in range(5)]
        assert (max(scores) > 8.0) is flagged, departure


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=400))
def test_cold_start_scores_are_finite(values: list[float]) -> None:
    cold = ColdStartScore(min_points=5, retire_points=300)
    assert all(np.isfinite(cold.update(value)) for value in values)


def test_a_cold_series_reports_an_outage_within_a_few_points() -> None:
    scorer = _scorer()
    for step in range(30):
        assert not scorer.process(5.0 * step, 1.0).is_anomaly
    verdicts = [scorer.process(5.0 * (30 + step), 0.0) for step in range(5)]
    fired = [verdict for verdict in verdicts if verdict.is_anomaly]
    assert len(fired) == 1 and fired[0].component == "cold-start"
    assert fired[0].expected_low is not None and fired[0].expected_low > 0.0


def test_a_young_series_collapsing_towards_zero_is_reported() -> None:
    """Live, a cache hit ratio fell from 0.93 to 0.08 two minutes into a fresh ``serve``: the
    cold-start score (9.7) sat under the young-series margin (9.95), so nothing was raised.
    The cold-start stage's own bar is enough."""
    rng = np.random.default_rng(5)
    scorer = _scorer()
    for step in range(36):
        assert not scorer.process(5.0 * step, 0.93 + rng.normal(0.0, 0.002)).is_anomaly
    slide = [0.93 - 0.85 * min(1.0, k / 12) for k in range(1, 25)]
    verdicts = [scorer.process(5.0 * (36 + k), value) for k, value in enumerate(slide)]
    assert any(verdict.is_anomaly and verdict.component == "cold-start" for verdict in verdicts)


def test_without_the_stages_a_cold_series_is_blind() -> None:
    scorer = _scorer(ScoringConfig())
    for step in range(30):
        scorer.process(5.0 * step, 1.0)
    assert not any(scorer.process(5.0 * (30 + step), 0.0).is_anomaly for step in range(5))


@pytest.mark.parametrize("seed", range(5))
def test_noise_of_a_young_series_stays_quiet(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scorer = _scorer()
    values = 8.0 * rng.lognormal(0.0, 0.5, 1500)
    verdicts = [scorer.process(5.0 * step, value) for step, value in enumerate(values)]
    assert not any(verdict.is_anomaly for verdict in verdicts)


def test_a_replayed_history_warms_but_leaves_no_decision_behind() -> None:
    """A would-be alert at the end of the history neither fires nor suppresses the next one
    (the gate still remembers its score: only something worse is news)."""
    rng = np.random.default_rng(0)
    values = 14.0 + rng.normal(0.0, 0.1, 720)
    values[-5:] = 100.0  # the history ends in an outage
    stamps = 5.0 * np.arange(values.size)
    scorer = _scorer()
    scorer.replay(stamps, values)
    assert scorer.policy._quiet_until == -np.inf and not scorer.policy._hits
    now = stamps[-1]
    for step in range(1, 30):
        assert not scorer.process(now + 5.0 * step, 14.0 + rng.normal(0.0, 0.1)).is_anomaly
    assert scorer.process(now + 150.0, -1e5).is_anomaly
