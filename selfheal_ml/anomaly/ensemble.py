"""Ensemble: several calibrated detectors side by side, the most alarmed one speaks.

Each component scores on the calibrated scale, so their scores compare directly; the ensemble
returns the largest and remembers which component produced it (the explanation's "component
that fired"). Every component learns every point the ensemble learns.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import Detector


class MaxEnsemble(Detector):
    """The maximum of calibrated component scores.

    >>> from selfheal_ml.anomaly.extreme_value import NewExtreme
    >>> ensemble = MaxEnsemble({"extreme": NewExtreme(warmup=3), "wide": NewExtreme(warmup=3,
    ...     tolerance=1.0)})
    >>> for value in [1.0, 2.0, 3.0]:
    ...     ensemble.learn_one({"value": value})
    >>> ensemble.score_one({"value": 4.0}), ensemble.component()
    (8.5, 'extreme')
    """

    output_is_calibrated = True

    def __init__(self, components: Mapping[str, Detector], range_from: str | None = None) -> None:
        if not components:
            raise ValueError("components: expected at least one detector, got none")
        for name, detector in components.items():
            if not detector.output_is_calibrated:
                raise ValueError(
                    f"components[{name!r}]: expected a calibrated detector, got {detector!r}"
                )
        self.components = dict(components)
        self.range_from = range_from
        self._last_component = next(iter(self.components))

    def clone(self) -> MaxEnsemble:
        return MaxEnsemble(
            {name: detector.clone() for name, detector in self.components.items()},
            self.range_from,
        )

    def score_one(self, x: Mapping[str, float]) -> float:
        best_score = 0.0
        best_name = None
        for name, detector in self.components.items():
            score = detector.score_one(x)
            if score > best_score:
                best_score = score
                best_name = name
        if best_name is not None:
            self._last_component = best_name
        return best_score

    def learn_one(self, x: Mapping[str, float]) -> None:
        for detector in self.components.values():
            detector.learn_one(x)

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        for detector in self.components.values():
            detector.learn_many(values, timestamps_s)

    def expected_range(self) -> tuple[float, float] | None:
        if self.range_from is not None:
            return self.components[self.range_from].expected_range()
        for detector in self.components.values():
            bounds = detector.expected_range()
            if bounds is not None:
                return bounds
        return None

    def warmed_up(self) -> bool:
        return all(detector.warmed_up() for detector in self.components.values())

    def component(self) -> str:
        return self._last_component
