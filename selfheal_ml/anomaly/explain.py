"""Explanations: one sentence that says why a point was flagged, for the person on call.

The value, the range the scorer expected (an open side is ``-inf``/``inf``), the calibrated
score and the detector component that scored highest.

>>> from selfheal_ml.anomaly.scoring import PointScore
>>> verdict = PointScore(41.0, 9.5, True, 35.0, None, "RollingZScore")
>>> explain("api.latency_ms", 950.0, verdict)
'api.latency_ms = 950, expected [35, inf]; calibrated score 9.50 (RollingZScore)'
"""

from __future__ import annotations

from selfheal_ml.anomaly.scoring import PointScore


def explain(series: str, value: float, verdict: PointScore) -> str:
    """Why ``value`` of ``series`` got ``verdict`` (see the module docstring)."""
    low = "-inf" if verdict.expected_low is None else f"{verdict.expected_low:.4g}"
    high = "inf" if verdict.expected_high is None else f"{verdict.expected_high:.4g}"
    return (
        f"{series} = {value:.4g}, expected [{low}, {high}];"
        f" calibrated score {verdict.calibrated:.2f} ({verdict.component})"
    )
