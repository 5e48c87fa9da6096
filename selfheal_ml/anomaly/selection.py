"""Evidence-weighted choice among calibrated components, per series and online.

:class:`~.ensemble.MaxEnsemble` lets the most alarmed component speak, whatever its record on the
series. But a component that keeps crossing the alarm level on one series is, on *that* series,
mostly describing its normal behaviour (anomalies are rare by definition), and a max lets its
noise through. :class:`EvidenceEnsemble` keeps, per component, an exponentially decaying count of
its recent exceedances of ``level`` (a half-life of ``half_life`` points) and divides its score by
``1 + penalty * count`` before taking the maximum. With ``penalty = 0`` it is the plain max.

This is the multiplicative-weights idea of prediction with expert advice (Littlestone & Warmuth,
"The weighted majority algorithm", 1994; Cesa-Bianchi & Lugosi, "Prediction, Learning, and
Games", 2006), with the unsupervised loss "alarmed on an ordinary point" standing in for labels,
and the per-series detector choice of NAB's best entries (ARTime and HTM pick their evidence per
file from its own history) made soft and online. Scores, then weights: a component's own point is
counted after it was scored, so the ensemble stays strictly online.

>>> from selfheal_ml.anomaly.extreme_value import NewExtreme
>>> ensemble = EvidenceEnsemble({"tight": NewExtreme(warmup=3)}, penalty=1.0, half_life=100)
>>> for value in [1.0, 2.0, 3.0, 4.0, 5.0]:
...     _ = ensemble.score_one({"value": value})
...     ensemble.learn_one({"value": value})
>>> round(ensemble.score_one({"value": 7.0}), 2)  # 8.5 / (1 + 1.99): two recent exceedances
2.84
"""

from __future__ import annotations

from collections.abc import Mapping

from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.ensemble import MaxEnsemble


class EvidenceEnsemble(MaxEnsemble):
    """The maximum of component scores, each discounted by its recent exceedances."""

    def __init__(
        self,
        components: Mapping[str, Detector],
        range_from: str | None = None,
        penalty: float = 0.5,
        level: float = 4.0,
        half_life: float = 2000.0,
    ) -> None:
        super().__init__(components, range_from)
        if penalty < 0 or half_life <= 0:
            raise ValueError(f"penalty, half_life: expected >= 0, > 0, got {penalty}, {half_life}")
        self.penalty = penalty
        self.level = level
        self.half_life = half_life
        self._decay = 0.5 ** (1.0 / half_life)
        self._evidence = dict.fromkeys(self.components, 0.0)
        self._pending: tuple[Mapping[str, float], dict[str, float]] | None = None

    def clone(self) -> EvidenceEnsemble:
        return EvidenceEnsemble(
            {name: detector.clone() for name, detector in self.components.items()},
            self.range_from,
            self.penalty,
            self.level,
            self.half_life,
        )

    def _plan(self) -> None:
        """The plain maximum's plan without its fused value path (which is the plain
        maximum's arithmetic): every point goes through :meth:`score_one` / :meth:`learn_one`.
        Left on, :meth:`MaxEnsemble.learn_one` handed a timed point to :meth:`learn_value`,
        which came back to :meth:`learn_one`: a recursion on every timed point."""
        super()._plan()
        self._value_only = False

    def reads_value_and_time_only(self) -> bool:
        return False  # the fused value path is the plain maximum's

    def score_value(self, value: float, ts_s: float) -> float:
        return Detector.score_value(self, value, ts_s)

    def learn_value(self, value: float, ts_s: float) -> None:
        Detector.learn_value(self, value, ts_s)

    def score_one(self, x: Mapping[str, float]) -> float:
        raw = {name: detector.score_one(x) for name, detector in self.components.items()}
        self._pending = (x, raw)
        best_score = 0.0
        best_name = self._last_component
        penalty, evidence = self.penalty, self._evidence
        for name, score in raw.items():
            weighted = score / (1.0 + penalty * evidence[name])
            if weighted > best_score:
                best_score, best_name = weighted, name
        self._last_component = best_name
        return best_score

    def learn_one(self, x: Mapping[str, float]) -> None:
        pending = self._pending
        if pending is not None and pending[0] is x:
            raw = pending[1]
        else:
            raw = {name: detector.score_one(x) for name, detector in self.components.items()}
        self._pending = None  # never keep a reference to the caller's dict
        decay, level, evidence = self._decay, self.level, self._evidence
        for name, score in raw.items():
            evidence[name] = evidence[name] * decay + (1.0 if score >= level else 0.0)
        super().learn_one(x)

    def evidence(self) -> dict[str, float]:
        """Each component's decayed count of recent exceedances (what discounts its score)."""
        return dict(self._evidence)
