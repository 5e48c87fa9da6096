"""The detectors by name: an explicit, typed registry (no string-keyed dynamic import).

``default_detector()`` is the product default: the maximum of six calibrated views of a
series, each catching a different kind of NAB-style anomaly:

- ``extreme``: a value well beyond the range of the last 20 000 points (spikes, breaches);
- ``surprise``: an unusual transition between quantised values (pattern changes);
- ``median``: a robust z-score against the rolling median (level shifts, outliers in noise);
- ``resonance``: a window shape that resonates with no learned category (adaptive resonance,
  the idea behind ARTime; :mod:`.adaptive_resonance`);
- ``daily`` and ``weekly``: the residual against the usual value at this time of day / of the
  week (the right value at the wrong hour, a weekday load on a Sunday).

Its global parameters and how they were chosen are in ``models/anomaly-detector.md``.

>>> sorted(DETECTORS)[2:5]
['default', 'default-univariate', 'hst-scaled']
>>> default_detector().output_is_calibrated
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final, Literal

from selfheal_ml.anomaly.adaptive_resonance import AdaptiveResonance
from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.calibration import Calibrated
from selfheal_ml.anomaly.contextual_neighbours import ContextualNeighbours
from selfheal_ml.anomaly.ensemble import MaxEnsemble
from selfheal_ml.anomaly.extreme_value import NewExtreme
from selfheal_ml.anomaly.robust_zscore import RollingMedianScore
from selfheal_ml.anomaly.seasonal_profile import SeasonalResidual
from selfheal_ml.anomaly.selection import EvidenceEnsemble
from selfheal_ml.anomaly.sequence_surprise import SequenceSurprise

DetectorFactory = Callable[[], Detector]


@dataclass(frozen=True)
class EnsembleSettings:
    """The global parameters of the default ensemble (how they were chosen: the model card).

    ``calibration_window`` is the calibrators' long window (points), ``profile_smoothing`` the
    EWMA rate of the daily / weekly profiles (per bucket visit with ``profile_decay="visit"``,
    per point with ``"point"``; see :mod:`.seasonal_profile`), ``profile_min_visits`` the
    earlier periods a profile bucket must have learned before it scores, ``profile_clip`` the
    deviations beyond which a scoring bucket learns a residual clipped (robust learning, see
    :mod:`.seasonal_profile`; None, the default: every residual in full),
    ``profile_min_std`` the smallest spread the profiles' calibrators assume for their raw
    scores (residuals in bucket deviations: on a noisy series their 10-point means spread by a
    few tenths, so only a (near-)constant series has less, where the calibrators' generic 1e-3
    turned a residual of a tenth of a deviation into a score of 79; see the model card),
    ``weekly`` adds the
    weekly profile and ``time_aware=False`` drops both profiles (for series without usable
    timestamps).
    ``extreme_tolerance`` is how far (in ranges) past the recent range a value must go to count
    as a new extreme. ``median_window`` is the rolling median's window (points).
    ``neighbours`` adds the conformal nearest-neighbour component (:mod:`.contextual_neighbours`),
    ``resonance`` the adaptive-resonance one (:mod:`.adaptive_resonance`), and
    ``evidence_penalty > 0`` replaces the plain maximum by the evidence-weighted choice of
    :mod:`.selection` (exceedances of ``evidence_level`` remembered with a half-life of
    ``evidence_half_life`` points). ``calibration_clip`` winsorises what the calibrators learn (see
    :class:`~.calibration.LikelihoodCalibrator`; None: off).
    """

    time_aware: bool = True
    extreme_tolerance: float = 0.1
    weekly: bool = True
    profile_smoothing: float = 0.25
    profile_decay: Literal["visit", "point"] = "visit"
    profile_min_visits: int = 2
    profile_clip: float | None = None
    profile_min_std: float = 0.1
    calibration_window: int = 2000
    median_window: int = 240
    neighbours: bool = False
    resonance: bool = False
    evidence_penalty: float = 0.0
    evidence_half_life: float = 2000.0
    evidence_level: float = 4.0
    calibration_clip: float | None = None


DEFAULT_SETTINGS: Final = EnsembleSettings(resonance=True)
"""The grid candidate ``grid-a1-n0-w1-k0-g400-e0``, selected by held-out NAB score
(``selfheal_ml/anomaly/tuning.py``, figures in ``models/anomaly-detector.md``)."""


def profile(settings: EnsembleSettings, period_s: float, buckets: int) -> SeasonalResidual:
    """A daily or weekly profile with the settings' smoothing, decay and minimum visits."""
    return SeasonalResidual(
        period_s,
        buckets,
        smoothing=settings.profile_smoothing,
        decay=settings.profile_decay,
        min_visits=settings.profile_min_visits,
        clip=settings.profile_clip,
    )


def build_ensemble(settings: EnsembleSettings = DEFAULT_SETTINGS) -> MaxEnsemble:
    """The default ensemble's structure with the given global parameters."""
    window = settings.calibration_window
    components: dict[str, Detector] = {
        "extreme": NewExtreme(memory=20_000, warmup=300, tolerance=settings.extreme_tolerance),
        "surprise": Calibrated(
            SequenceSurprise(levels=5, order=2, warmup=300),
            long_window=window,
            clip=settings.calibration_clip,
        ),
        "median": Calibrated(
            RollingMedianScore(window=settings.median_window),
            long_window=window,
            clip=settings.calibration_clip,
        ),
    }
    if settings.neighbours:
        components["neighbours"] = Calibrated(
            ContextualNeighbours(), long_window=window, clip=settings.calibration_clip
        )
    if settings.resonance:
        components["resonance"] = Calibrated(
            AdaptiveResonance(), long_window=window, clip=settings.calibration_clip
        )
    if settings.time_aware:
        daily = profile(settings, 86_400.0, 48)
        components["daily"] = Calibrated(
            daily,
            long_window=window,
            min_std=settings.profile_min_std,
            clip=settings.calibration_clip,
        )
    if settings.time_aware and settings.weekly:
        weekly = profile(settings, 7 * 86_400.0, 7 * 24)
        components["weekly"] = Calibrated(
            weekly,
            long_window=window,
            min_std=settings.profile_min_std,
            clip=settings.calibration_clip,
        )
    if settings.evidence_penalty > 0.0:
        return EvidenceEnsemble(
            components,
            range_from="median",
            penalty=settings.evidence_penalty,
            half_life=settings.evidence_half_life,
            level=settings.evidence_level,
        )
    return MaxEnsemble(components, range_from="median")


def default_detector() -> MaxEnsemble:
    """The product's default detector (a fresh, unfitted instance)."""
    return build_ensemble(DEFAULT_SETTINGS)


def scaled_half_space_trees() -> Detector:
    """river's HalfSpaceTrees on standardised features, calibrated (river is imported here:
    the default detector does not use it, and river with what it imports costs a process
    about 100 MB)."""
    from selfheal_ml.anomaly.river_detectors import ScaledHalfSpaceTrees

    return Calibrated(ScaledHalfSpaceTrees())


def river_half_space_trees() -> Detector:
    """river's ``MinMaxScaler | HalfSpaceTrees`` out of the box (river imported here)."""
    from selfheal_ml.anomaly.river_detectors import river_baseline

    return river_baseline()


def univariate_detector() -> MaxEnsemble:
    """The default without the daily and weekly profiles: for points without usable time."""
    return build_ensemble(replace(DEFAULT_SETTINGS, time_aware=False))


DETECTORS: Final[Mapping[str, DetectorFactory]] = MappingProxyType(
    {
        "default": default_detector,
        "default-univariate": univariate_detector,
        "median-iqr": lambda: Calibrated(RollingMedianScore(window=240)),
        "sequence-surprise": lambda: Calibrated(SequenceSurprise()),
        "new-extreme": NewExtreme,
        "seasonal-residual": lambda: Calibrated(SeasonalResidual(smoothing=0.25)),
        "hst-scaled": scaled_half_space_trees,
        "contextual-neighbours": lambda: Calibrated(ContextualNeighbours()),
        "adaptive-resonance": lambda: Calibrated(AdaptiveResonance()),
        "river-hst": river_half_space_trees,
    }
)
"""Every detector the product ships, by name; ``river-hst`` is river out of the box."""

BASELINES: Final[frozenset[str]] = frozenset({"river-hst"})
"""Names evaluated exactly as shipped (raw scores, no calibration, gate or protection)."""


def make_detector(name: str) -> Detector:
    """A fresh detector by registry name; raises KeyError naming the known ones."""
    try:
        factory = DETECTORS[name]
    except KeyError:
        raise KeyError(f"detector: expected one of {sorted(DETECTORS)}, got {name!r}") from None
    return factory()
