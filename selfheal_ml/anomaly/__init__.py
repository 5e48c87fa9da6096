"""Streaming anomaly detection: detectors, calibration, alerting stages and a per-series bank.

The family follows river's anomaly API. A **detector** (:mod:`.base`) sees one point at a time as
a feature dict (``{"value": v, "timestamp_s": t}``): ``score_one(x)`` says how anomalous the
point is given what was learned so far (higher is worse, finite, 0 during warm-up), then
``learn_one(x)`` learns it; ``clone()`` gives a fresh detector with the same parameters.

Raw detectors (one small module each): :class:`RollingMedianScore` (robust z against the rolling
median), :class:`SeasonalResidual` (residual against a daily profile), :class:`SequenceSurprise`
(unexpected transitions between quantised values), :class:`ScaledHalfSpaceTrees` and
:class:`RiverModel` (river). Their scores live on different scales, so :class:`Calibrated` maps
them online onto one z-like scale (:mod:`.calibration`, Numenta's anomaly likelihood).
:class:`NewExtreme` scores on that scale directly, and :class:`MaxEnsemble` takes the most
alarmed of several calibrated detectors: ``default_detector()`` is such an ensemble.

After the detector come separate stages (:mod:`.scoring`): the :class:`EscalationGate` reports a
sustained anomaly once (then again only if it gets worse), the :class:`AlertPolicy` applies the
threshold, minimum hits in a window and suppression, and the detector does not learn from the
points the policy flags. :class:`DetectorBank` keeps one such pipeline per series; the registry
(:data:`DETECTORS`) names every detector for pipelines and configuration.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.anomaly.alert_policy import DEFAULT_THRESHOLD, AlertPolicy
    from selfheal_ml.anomaly.bank import SNAPSHOT_VERSION, DetectorBank
    from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
    from selfheal_ml.anomaly.calibration import Calibrated, LikelihoodCalibrator
    from selfheal_ml.anomaly.cold_start import ColdStartScore
    from selfheal_ml.anomaly.ensemble import MaxEnsemble
    from selfheal_ml.anomaly.escalation_gate import EscalationGate
    from selfheal_ml.anomaly.extreme_value import NewExtreme
    from selfheal_ml.anomaly.registry import (
        DETECTORS,
        EnsembleSettings,
        build_ensemble,
        default_detector,
        make_detector,
        univariate_detector,
    )
    from selfheal_ml.anomaly.river_detectors import RiverModel, ScaledHalfSpaceTrees, river_baseline
    from selfheal_ml.anomaly.robust_zscore import RollingMedianScore
    from selfheal_ml.anomaly.scoring import PointScore, ScoringConfig, SeriesScorer
    from selfheal_ml.anomaly.seasonal_profile import SeasonalResidual
    from selfheal_ml.anomaly.sequence_surprise import SequenceSurprise

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.anomaly.alert_policy": (
            "DEFAULT_THRESHOLD",
            "AlertPolicy",
        ),
        "selfheal_ml.anomaly.bank": (
            "SNAPSHOT_VERSION",
            "DetectorBank",
        ),
        "selfheal_ml.anomaly.base": (
            "TIME_KEY",
            "VALUE_KEY",
            "Detector",
        ),
        "selfheal_ml.anomaly.calibration": (
            "Calibrated",
            "LikelihoodCalibrator",
        ),
        "selfheal_ml.anomaly.cold_start": ("ColdStartScore",),
        "selfheal_ml.anomaly.ensemble": ("MaxEnsemble",),
        "selfheal_ml.anomaly.escalation_gate": ("EscalationGate",),
        "selfheal_ml.anomaly.extreme_value": ("NewExtreme",),
        "selfheal_ml.anomaly.registry": (
            "DETECTORS",
            "EnsembleSettings",
            "build_ensemble",
            "default_detector",
            "make_detector",
            "univariate_detector",
        ),
        "selfheal_ml.anomaly.river_detectors": (
            "RiverModel",
            "ScaledHalfSpaceTrees",
            "river_baseline",
        ),
        "selfheal_ml.anomaly.robust_zscore": ("RollingMedianScore",),
        "selfheal_ml.anomaly.scoring": (
            "PointScore",
            "ScoringConfig",
            "SeriesScorer",
        ),
        "selfheal_ml.anomaly.seasonal_profile": ("SeasonalResidual",),
        "selfheal_ml.anomaly.sequence_surprise": ("SequenceSurprise",),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "DEFAULT_THRESHOLD",
    "DETECTORS",
    "SNAPSHOT_VERSION",
    "TIME_KEY",
    "VALUE_KEY",
    "AlertPolicy",
    "Calibrated",
    "ColdStartScore",
    "Detector",
    "DetectorBank",
    "EnsembleSettings",
    "EscalationGate",
    "LikelihoodCalibrator",
    "MaxEnsemble",
    "NewExtreme",
    "PointScore",
    "RiverModel",
    "RollingMedianScore",
    "ScaledHalfSpaceTrees",
    "ScoringConfig",
    "SeasonalResidual",
    "SequenceSurprise",
    "SeriesScorer",
    "build_ensemble",
    "default_detector",
    "make_detector",
    "river_baseline",
    "univariate_detector",
]
