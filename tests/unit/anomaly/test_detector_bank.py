"""The per-series bank: isolation, validation, protection, replay and snapshots."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from selfheal_ml.anomaly import (
    SNAPSHOT_VERSION,
    DetectorBank,
    NewExtreme,
    ScoringConfig,
    default_detector,
)
from selfheal_ml.errors import ValidationError
from tests.unit.anomaly.former_precision import float64_state

START = datetime(2026, 1, 5, tzinfo=UTC)


def minutes(count: int, offset: int = 0) -> list[datetime]:
    return [START + timedelta(minutes=offset + index) for index in range(count)]


def normal_values(count: int, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    values: list[float] = (100.0 + rng.normal(0.0, 2.0, count)).tolist()
    return values


def test_each_series_has_its_own_state() -> None:
    bank = DetectorBank()
    bank.replay("a", normal_values(800), minutes(800))
    assert bank.series() == ["a"]
    spike_a = bank.score("a", START + timedelta(minutes=800), 200.0)
    fresh_b = bank.score("b", START + timedelta(minutes=800), 200.0)
    assert spike_a.is_anomaly and spike_a.score > 5.0
    assert not fresh_b.is_anomaly and fresh_b.score == 0.0  # b is still warming up


def test_point_score_explains_the_verdict() -> None:
    bank = DetectorBank()
    bank.replay("latency", normal_values(800), minutes(800))
    verdict = bank.score("latency", START + timedelta(minutes=800), 180.0)
    assert verdict.component in default_detector().components
    assert verdict.expected_low is not None and verdict.expected_high is not None
    assert verdict.expected_low < 100.0 < verdict.expected_high < 180.0


@pytest.mark.parametrize(
    ("ts", "value", "field"),
    [
        (START + timedelta(minutes=5), float("nan"), "value"),
        (START + timedelta(minutes=5), float("inf"), "value"),
        (datetime(2026, 1, 5, 0, 5), 1.0, "ts"),  # naive
        (START, 1.0, "ts"),  # not after the last point
    ],
)
def test_rejects_bad_points(ts: datetime, value: float, field: str) -> None:
    bank = DetectorBank()
    bank.score("s", START, 1.0)
    with pytest.raises(ValidationError) as caught:
        bank.score("s", ts, value)
    assert caught.value.field == field


def test_flagged_points_are_not_learned() -> None:
    extreme = NewExtreme(warmup=100)
    protected = DetectorBank(extreme, config=ScoringConfig(protect=True))
    unprotected = DetectorBank(extreme, config=ScoringConfig(protect=False))
    for bank in (protected, unprotected):
        bank.replay("s", normal_values(800), minutes(800))
        assert bank.score("s", START + timedelta(minutes=800), 1000.0).is_anomaly
    # the protected bank did not widen its range to 1000; the other one did
    after = START + timedelta(minutes=801)
    assert protected.score("s", after, 500.0).calibrated > 5.0
    assert unprotected.score("s", after, 500.0).calibrated < 5.0


def test_a_lasting_level_shift_stops_alerting() -> None:
    bank = DetectorBank()
    bank.replay("s", normal_values(800), minutes(800))
    shifted = [v + 60.0 for v in normal_values(1500, seed=1)]
    alerts = [
        bank.score("s", ts, value).is_anomaly
        for ts, value in zip(minutes(1500, 800), shifted, strict=True)
    ]
    assert alerts[0]
    assert sum(alerts[-1000:]) <= 3  # the odd new record of the noise, not the shift itself


def online_bank(values: list[float], stamps: list[datetime], config: ScoringConfig) -> DetectorBank:
    bank = DetectorBank(config=config)
    for ts, value in zip(stamps, values, strict=True):
        bank.score("s", ts, value)
    return bank


def probes(bank: DetectorBank, start_minute: int) -> list[float]:
    """Calibrated and gated scores of three probe points after the history."""
    at = [START + timedelta(minutes=start_minute + k) for k in range(3)]
    verdicts = [bank.score("s", ts, v) for ts, v in zip(at, [101.0, 130.0, 99.0], strict=True)]
    return [number for verdict in verdicts for number in (verdict.calibrated, verdict.score)]


def test_replay_of_a_short_history_equals_online_learning() -> None:
    values, stamps = normal_values(900), minutes(900)
    config = ScoringConfig(protect=False)
    replayed = DetectorBank(config=config)
    assert replayed.replay("s", values, stamps) == 900
    assert probes(replayed, 900) == probes(online_bank(values, stamps, config), 900)


def test_replay_of_a_long_history_matches_online_learning() -> None:
    # 30k points: the batch path (vectorised counts, rebuilt windows, settled daily profile)
    # must land where 30k online steps land, up to float rounding
    values, stamps = normal_values(30_000, seed=5), minutes(30_000)
    config = ScoringConfig(protect=False)
    replayed = DetectorBank(config=config)
    replayed.replay("s", np.array(values), np.array(stamps, dtype=object))
    expected = probes(online_bank(values, stamps, config), 30_000)
    assert probes(replayed, 30_000) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_replay_accepts_numpy_history_and_skips_bad_points() -> None:
    bank = DetectorBank()
    stamps = np.datetime64("2026-01-05T00:00") + np.arange(2000) * np.timedelta64(1, "m")
    values = np.array(normal_values(2000))
    values[10] = np.nan
    stamps[20] = stamps[19]  # a duplicate timestamp
    assert bank.replay("s", values, stamps) == 1998
    with pytest.raises(ValidationError):
        bank.replay("t", [1.0, 2.0], stamps[:1])


def test_snapshot_round_trip_and_version_stamp() -> None:
    bank = DetectorBank()
    bank.replay("s", normal_values(900), minutes(900))
    restored = DetectorBank.from_snapshot(bank.snapshot())
    assert restored is not None
    probe = START + timedelta(minutes=900)
    assert restored.score("s", probe, 150.0) == bank.score("s", probe, 150.0)
    stale = pickle.dumps((SNAPSHOT_VERSION + 1, bank))
    assert DetectorBank.from_snapshot(stale) is None
    assert DetectorBank.from_snapshot(b"not a pickle") is None


def test_a_snapshot_of_the_float64_layout_loads_compact_and_scores_alike() -> None:
    """Issue 20: a bank snapshot written before the float32 state (float64 calibration
    histories and resonance rows, the same ``SNAPSHOT_VERSION``) loads, its state becomes
    float32, and it goes on with the same verdicts as the float64 bank, scores close by."""
    values = normal_values(3000, seed=4)
    with float64_state():
        former = DetectorBank()
        former.replay("s", values, minutes(3000))
        blob = former.snapshot()
    restored = DetectorBank.from_snapshot(blob)
    assert restored is not None
    ensemble = restored.scorers(["s"])["s"].detector
    calibrated = [d for d in ensemble.components.values() if hasattr(d, "_calibrator")]
    assert len(calibrated) >= 4
    assert {d._calibrator._history.typecode for d in calibrated} == {"f"}
    assert ensemble.components["resonance"].detector._weights.dtype == np.float32
    probes = normal_values(200, seed=5)
    probes[50], probes[120] = 160.0, 30.0  # two points to flag
    flagged = 0
    for offset, value in enumerate(probes):
        ts = START + timedelta(minutes=3000 + offset)
        with float64_state():
            expected = former.score("s", ts, value)
        verdict = restored.score("s", ts, value)
        assert verdict.is_anomaly == expected.is_anomaly
        assert verdict.score == pytest.approx(expected.score, rel=1e-4, abs=1e-4)
        flagged += verdict.is_anomaly
    assert flagged >= 1
