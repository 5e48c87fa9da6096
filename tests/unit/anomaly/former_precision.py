"""The detector state's precision before issue 20, for tests that need the former layout.

Issue 20 made the calibrators' histories float32 (``calibration.HISTORY_TYPECODE``) and the
resonance categories' rows float32 (``adaptive_resonance.WEIGHT_DTYPE``), a change of scores
the lead allowed. Objects built and run inside :func:`float64_state` keep float64 there, as
the code before did (bit for bit: ``test_compact_state.py`` compares them with the legacy
copies), so tests can compare the two layouts and write snapshots of the former one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from selfheal_ml.anomaly import adaptive_resonance, calibration


@contextmanager
def float64_state() -> Iterator[None]:
    """Calibration rings and resonance rows at float64 inside the block (objects built and
    run inside keep the former precision; unpickling inside converts nothing)."""
    saved = calibration.HISTORY_TYPECODE, adaptive_resonance.WEIGHT_DTYPE
    calibration.HISTORY_TYPECODE, adaptive_resonance.WEIGHT_DTYPE = "d", np.float64
    try:
        yield
    finally:
        calibration.HISTORY_TYPECODE, adaptive_resonance.WEIGHT_DTYPE = saved
