"""Bytes of detector state per series after a week of data (issue 20), opt-in: -m benchmark -s.

Twenty series of a noisy daily cycle, one point every 30 s for seven days (20,160 points each),
are warmed into a :class:`DetectorBank` through ``replay`` and then scored online for another
300 points, once with the product's default detector and once with the same ensemble built
from the legacy state classes (lists and nested dicts, ``tests/unit/anomaly/legacy``). Memory is
what ``tracemalloc`` sees allocated by the bank and still alive, divided by the series. A second
figure runs two weeks, when the weekly profile's calibrator has filled too.

    .venv/bin/pytest tests/benchmarks/test_series_memory.py -m benchmark -s
"""

from __future__ import annotations

import gc
import importlib.util
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from selfheal_ml.agents.predictive import SCORING
from selfheal_ml.anomaly.bank import DetectorBank
from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.registry import default_detector

pytestmark = pytest.mark.benchmark

SERIES = 20
LEGACY = Path(__file__).parents[1] / "unit" / "anomaly" / "legacy" / "legacy_ensemble.py"


def _legacy_detector() -> Callable[[], Detector]:
    spec = importlib.util.spec_from_file_location("legacy_ensemble", LEGACY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.legacy_default_detector  # type: ignore[no-any-return]


def bytes_per_series(prototype: Callable[[], Detector], days: int) -> float:
    points = days * 86_400 // 30
    times = 1.7e9 + np.arange(points + 300) * 30.0
    rng = np.random.default_rng(1)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    bank = DetectorBank(prototype, config=SCORING)
    for index in range(SERIES):
        cycle = 10.0 * np.sin(times / 86_400.0 * 2 * np.pi)
        values = np.round(100.0 + cycle + rng.normal(0.0, 2.0, times.size), 1)
        name = f"series_{index}"
        bank.replay(name, values[:points], times[:points])
        for ts_s, value in zip(times[points:].tolist(), values[points:].tolist(), strict=True):
            bank.score(name, ts_s, value)
        del cycle, values
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(bank.series()) == SERIES
    return used / SERIES


def test_bytes_per_series_after_a_week() -> None:
    legacy = _legacy_detector()
    for days in (7, 14):
        new = bytes_per_series(default_detector, days)
        old = bytes_per_series(legacy, days)
        print(
            f"\n{days} days at 30 s: {new / 1000:.1f} KB per series, legacy state"
            f" {old / 1000:.1f} KB, ratio {new / old:.2f}x (acceptance: <= 100 KB after a week)"
        )
