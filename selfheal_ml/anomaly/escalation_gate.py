"""Escalation gate: a running anomaly is reported once, then again only when it gets worse.

A threshold-free alarm aggregation stage between calibration and the alert policy. The gate
remembers the calibrated scores of the last ``window_points`` points; a score above all of them
passes unchanged, any other score is reported as 0. So a sustained anomaly produces one high
score at its onset instead of a long run of them (each of which would be a false alarm once the
anomaly is known), while a point clearly worse than anything recent still gets through.
``window_points=0`` disables the gate. The maximum is kept with a monotonic deque (amortised O(1)).

>>> gate = EscalationGate(window_points=3)
>>> [gate.update(score) for score in [5.0, 5.0, 4.0, 9.0, 1.0, 1.0, 1.0, 2.0]]
[5.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 2.0]
"""

from __future__ import annotations

from collections import deque


class EscalationGate:
    """Passes a score only when it exceeds every score of the last ``window_points`` points."""

    def __init__(self, window_points: int = 400) -> None:
        if window_points < 0:
            raise ValueError(f"window_points: expected >= 0, got {window_points}")
        self.window_points = window_points
        self._count = 0
        self._maxima: deque[tuple[int, float]] = deque()

    def update(self, score: float) -> float:
        """The gated score of this point; then remembers it."""
        window_points = self.window_points
        if window_points == 0:
            return score
        maxima = self._maxima
        count = self._count
        oldest = count - window_points
        while maxima and maxima[0][0] <= oldest:
            maxima.popleft()
        passed = score if not maxima or score > maxima[0][1] else 0.0
        while maxima and maxima[-1][1] <= score:
            maxima.pop()
        maxima.append((count, score))
        self._count = count + 1
        return passed
