"""The default ensemble built from the per-series state classes as they were before issue 20.

``legacy_*.py`` beside this file are verbatim copies of ``calibration``, ``seasonal_profile``,
``sequence_surprise`` and ``robust_zscore`` from before their state became compact arrays,
and of ``adaptive_resonance`` from before the issue-15 speed work (its hot path was rewritten,
its arithmetic was not).
They are the reference the property tests compare scores with, and the baseline the memory
benchmark measures bytes per series against. Load this file with :func:`load_legacy`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.ensemble import MaxEnsemble
from selfheal_ml.anomaly.extreme_value import NewExtreme

HERE = Path(__file__).parent


def load_legacy(name: str) -> ModuleType:
    """Import ``legacy_<name>.py`` from this folder (tests use importlib import mode)."""
    spec = importlib.util.spec_from_file_location(f"legacy_{name}", HERE / f"legacy_{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def legacy_default_detector(window: int = 2000) -> Detector:
    """``registry.default_detector()``'s structure on the legacy state classes (the same
    components in the same order: the order breaks ties between equal scores)."""
    calibration = load_legacy("calibration")
    seasonal = load_legacy("seasonal_profile")
    surprise = load_legacy("sequence_surprise")
    median = load_legacy("robust_zscore")
    resonance = load_legacy("adaptive_resonance")

    def profile(period_s: float, buckets: int) -> Detector:
        residual = seasonal.SeasonalResidual(
            period_s, buckets, smoothing=0.25, decay="visit", min_visits=2
        )
        return calibration.Calibrated(residual, long_window=window)  # type: ignore[no-any-return]

    components: dict[str, Detector] = {
        "extreme": NewExtreme(memory=20_000, warmup=300, tolerance=0.1),
        "surprise": calibration.Calibrated(
            surprise.SequenceSurprise(levels=5, order=2, warmup=300), long_window=window
        ),
        "median": calibration.Calibrated(median.RollingMedianScore(window=240), long_window=window),
        # the adaptive-resonance component as before the issue-15 speed work (its state
        # was never compacted)
        "resonance": calibration.Calibrated(resonance.AdaptiveResonance(), long_window=window),
        "daily": profile(86_400.0, 48),
        "weekly": profile(7 * 86_400.0, 7 * 24),
    }
    return MaxEnsemble(components, range_from="median")
