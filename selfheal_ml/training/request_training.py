"""Train, evaluate, log, register and (maybe) promote the request classifier.

:func:`train_request_classifier` is the whole orchestration behind
``pipelines/train_request_classifier.py``:

1. group the texts by near-duplicate skeleton and split whole groups: 20 % held out as the
   test side, the rest split again into fit (80 %) and validation (20 %) sides; unless
   ``learn_csic_anomalous``, CSIC's anomalous requests leave the fit and validation sides and
   are only scored on the test side (see ``models/request-classifier.md`` for why);
2. fit every candidate on the fit side (rows of libinjection's ``false_positives.txt`` weigh
   ``fp_weight`` times a normal row: they are few, and benign code-like text is exactly what
   the classifier must not flag), score it on validation (one MLflow run each, role
   ``candidate``); pick the best by validation TPR at 0.1 % FPR (then at 1 %) on the
   injection attacks against every benign text;
3. choose the default threshold on validation: the lowest at which at most ``target_fpr`` of
   the validation benign texts and at most ``fp_list_target`` of the validation part of the
   false-positive list are flagged;
4. score the chosen model (wrapped with its threshold) and the signature baseline once on the
   fit side (in-sample) and on the test side (held out); log both, the model (skops, with
   signature and input example) and the figures in one run (role ``selected``); register the
   model as a new version of ``request-classifier``;
5. learn the application request profile from the fit side's normal CSIC requests, calibrate
   it on validation and score it, the model and both combined on every side
   (:mod:`~selfheal_ml.training.request_profile_evaluation`; the test side once); the profile
   and its threshold are logged with the model (``extra_files/application_profile.json``), so
   ``pipelines/score_requests.py`` scores whole requests of that application with both;
6. score the current ``champion`` on the same test side and move the alias only if the gate
   (which also asks the model not to be worse than the signature baseline on that side)
   (:func:`~selfheal_ml.security.promotion.request_promotion_decision`) allows.

Fits run with BLAS limited to one thread (the machine is shared).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from selfheal_ml.security.application_profile import PROFILE_FILE, ApplicationProfile
from selfheal_ml.security.detection_metrics import threshold_at_fpr
from selfheal_ml.security.near_duplicates import group_ids, group_split
from selfheal_ml.security.promotion import (
    DEFAULT_FP_BOUND,
    DEFAULT_MARGIN,
    GateDecision,
    request_promotion_decision,
)
from selfheal_ml.security.request_classifier import (
    CANDIDATES,
    TRUSTED_TYPES,
    attack_probabilities,
    build_candidate,
    parameter_probabilities,
    with_threshold,
)
from selfheal_ml.security.request_evaluation import evaluate_scores
from selfheal_ml.security.signatures import SignatureBaseline
from selfheal_ml.serving.export import serving_form_or_none
from selfheal_ml.tracking import Tracker
from selfheal_ml.training.request_profile_evaluation import (
    calibrate,
    fit_profile,
    profile_figures,
)
from selfheal_ml.training.request_scorer_loading import CHAMPION, MODEL_NAME

EXPERIMENT = "request-classifier"
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.2
DEFAULT_TARGET_FPR = 0.001
DEFAULT_FP_WEIGHT = 30.0
DEFAULT_FP_LIST_TARGET = 0.0
log = logging.getLogger("selfheal_ml.training.request")


@dataclass(frozen=True)
class RequestSplit:
    """The three sides: fit (in-sample), validation (selection, threshold), test (held out)."""

    fit: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame


@dataclass(frozen=True)
class RequestTrainingReport:
    """What one training run produced (for the summary and the model card)."""

    best: str
    threshold: float
    target_fpr: float
    fp_list_target: float
    candidates: dict[str, dict[str, float]]
    in_sample: dict[str, float]
    held_out: dict[str, float]
    baseline_in_sample: dict[str, float]
    baseline_held_out: dict[str, float]
    version: str
    decision: GateDecision
    champion_version: str | None
    champion_held_out: dict[str, float] | None
    counts: dict[str, int]
    fit_s: float
    run_id: str
    # CSIC whole requests: request profile, classifier and both (request_profile_evaluation)
    profile: dict[str, dict[str, float]] = field(default_factory=dict)


def split_texts(frame: pd.DataFrame, seed: int) -> RequestSplit:
    """Split ``frame`` (text, label, source) by near-duplicate groups (module docstring)."""
    groups = group_ids(frame["text"].tolist(), frame["label"].tolist())
    train_rows, test_rows = group_split(groups, TEST_FRACTION, seed)
    fit_rows, validation_rows = group_split(groups[train_rows], VALIDATION_FRACTION, seed + 1)
    train = frame.iloc[train_rows].reset_index(drop=True)
    return RequestSplit(
        train.iloc[fit_rows].reset_index(drop=True),
        train.iloc[validation_rows].reset_index(drop=True),
        frame.iloc[test_rows].reset_index(drop=True),
    )


def _without_csic_anomalous(split: RequestSplit) -> RequestSplit:
    """Fit and validation sides without CSIC's anomalous requests (held-out side unchanged)."""

    def keep(side: pd.DataFrame) -> pd.DataFrame:
        return side[side["source"] != "csic_anomalous"].reset_index(drop=True)

    return RequestSplit(keep(split.fit), keep(split.validation), split.test)


def _figures(model: Any, side: pd.DataFrame, threshold: float) -> dict[str, float]:
    scores = attack_probabilities(model, side["text"].tolist())
    figures = evaluate_scores(scores, side, threshold)
    csic = side[side["source"].isin(["csic_normal", "csic_anomalous"])]
    if csic["label"].nunique() == 2:  # whole requests scored value by value too
        by_value = parameter_probabilities(model, csic["text"].tolist())
        for key, value in evaluate_scores(by_value, csic, threshold).items():
            if key.startswith(("csic_", "all_")):
                figures[f"by_parameter_{key}"] = value
    return figures


def _profile_figures(
    classifier: Any, split: RequestSplit, target_fpr: float, threshold: float
) -> tuple[dict[str, dict[str, float]], ApplicationProfile | None]:
    """The request profile learnt on the fit side's normal CSIC requests, calibrated on
    validation, scored on every side (the held-out side once), and the profile as the model
    carries it; nothing without normal CSIC requests on the fit and validation sides."""
    if not all((side["source"] == "csic_normal").any() for side in (split.fit, split.validation)):
        return {}, None
    profile = fit_profile(split.fit)
    scorer = calibrate(profile, classifier, split.validation, target_fpr, threshold)
    calibration = {
        "profile_scale": scorer.profile_scale,
        "classifier_scale": scorer.classifier_scale,
    }
    figures = {
        "profile_val_": {**profile_figures(scorer, split.validation), **calibration},
        "profile_train_": profile_figures(scorer, split.fit),
        "profile_test_": profile_figures(scorer, split.test),
    }
    return figures, scorer.application_profile(target_fpr)


def _prefixed(prefix: str, figures: Mapping[str, float]) -> dict[str, float]:
    return {f"{prefix}{key}": value for key, value in figures.items()}


def _fit_candidate(
    tracker: Tracker,
    name: str,
    seed: int,
    split: RequestSplit,
    params: Mapping[str, Any],
) -> tuple[Any, dict[str, float], float]:
    model = build_candidate(name, seed)
    fp_rows = split.fit["source"].to_numpy() == "libinjection_fp"
    weights = np.where(fp_rows, float(params["fp_weight"]), 1.0)
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        model.fit(
            split.fit["text"].tolist(), split.fit["label"].to_numpy(), model__sample_weight=weights
        )
    fit_s = time.perf_counter() - started
    validation = _figures(model, split.validation, 0.5)
    with tracker.run(EXPERIMENT, name, tags={"role": "candidate"}):
        tracker.log_params({"candidate": name, **params})
        tracker.log_metrics({**_prefixed("val_", validation), "fit_s": fit_s})
    return model, validation, fit_s


def _selection_key(figures: Mapping[str, float]) -> tuple[float, float]:
    return (
        figures.get("injection_tpr_at_fpr_0.1pct", 0.0),
        figures.get("injection_tpr_at_fpr_1pct", 0.0),
    )


def default_threshold(
    scores: np.ndarray, side: pd.DataFrame, target_fpr: float, fp_list_target: float
) -> float:
    """The lowest threshold at which, on ``side`` (validation), at most ``target_fpr`` of the
    benign texts and at most ``fp_list_target`` of the false-positive list are flagged."""
    benign = side["label"].to_numpy() == 0
    threshold = threshold_at_fpr(scores[benign], target_fpr)
    fp_rows = side["source"].to_numpy() == "libinjection_fp"
    if fp_rows.any():
        threshold = max(threshold, threshold_at_fpr(scores[fp_rows], fp_list_target))
    return threshold


def champion_figures(tracker: Tracker, test: pd.DataFrame) -> tuple[str | None, Any]:
    """The current champion's version and its held-out figures (``None`` if unscorable)."""
    version = tracker.alias_version(MODEL_NAME, CHAMPION)
    if version is None:
        return None, None
    try:
        model = tracker.load_sklearn_model(f"models:/{MODEL_NAME}@{CHAMPION}")
        return version, _figures(model, test, float(model.threshold))
    except Exception as exc:  # an unusable champion must not block a usable challenger
        log.warning("champion version %s cannot be scored: %s", version, exc)
        return version, None


def _log_selected(
    tracker: Tracker,
    name: str,
    model: Any,
    params: Mapping[str, Any],
    figures: Mapping[str, Mapping[str, float]],
    application: ApplicationProfile | None,
) -> tuple[str, str]:
    """One run with the chosen model, its figures and the baseline's; (run id, model URI)."""
    with tracker.run(EXPERIMENT, f"selected-{name}", tags={"role": "selected"}) as run:
        tracker.log_params({"candidate": name, "threshold": model.threshold, **params})
        for prefix, values in figures.items():
            tracker.log_metrics(_prefixed(prefix, values))
        tracker.log_metrics({"threshold": float(model.threshold)})
        tracker.log_dict({key: dict(value) for key, value in figures.items()}, "figures.json")
        example = pd.DataFrame({"text": ["get /index.jsp?id=2", "1' or '1'='1"]})
        uri = tracker.log_sklearn_model(
            model,
            "model",
            example,
            trusted_types=TRUSTED_TYPES,
            serving_form=serving_form_or_none(model),  # the service scores with this
            extra_json=None if application is None else {PROFILE_FILE: application.to_json()},
        )
        return str(run.info.run_id), uri


def _gate(
    tracker: Tracker, version: str, figures: Mapping[str, dict[str, float]], test: pd.DataFrame,
    fp_bound: float, margin: float, threshold: float,
) -> tuple[GateDecision, str | None, dict[str, float] | None]:  # fmt: skip
    current, current_figures = champion_figures(tracker, test)
    held_out = figures["test_"]
    decision = request_promotion_decision(
        held_out, current_figures, figures["baseline_test_"], fp_bound, margin
    )
    if decision.promote:
        tracker.set_alias(MODEL_NAME, CHAMPION, version)
    tags = {
        "role": CHAMPION if decision.promote else "challenger",
        "gate_reason": decision.reason,
        "threshold": f"{threshold:.9g}",
        **{f"heldout_{key}": f"{held_out[key]:.6f}" for key in sorted(held_out)},
    }
    tracker.set_version_tags(MODEL_NAME, version, tags)
    return decision, version if decision.promote else current, current_figures


def train_request_classifier(
    tracker: Tracker,
    frame: pd.DataFrame,
    *,
    seed: int = 0,
    candidates: Sequence[str] = tuple(CANDIDATES),
    target_fpr: float = DEFAULT_TARGET_FPR,
    fp_bound: float = DEFAULT_FP_BOUND,
    margin: float = DEFAULT_MARGIN,
    fp_weight: float = DEFAULT_FP_WEIGHT,
    learn_csic_anomalous: bool = False,
    fp_list_target: float = DEFAULT_FP_LIST_TARGET,
    progress: Callable[[str], None] | None = None,
) -> RequestTrainingReport:
    """The whole orchestration (see the module docstring)."""
    full_split = split_texts(frame, seed)
    split = full_split if learn_csic_anomalous else _without_csic_anomalous(full_split)
    counts = {"fit": len(split.fit), "validation": len(split.validation), "test": len(split.test)}
    if min(counts.values()) == 0 or split.fit["label"].nunique() < 2:
        raise ValueError(f"too few texts to split into fit/validation/test sides: {counts}")
    params = {
        "seed": seed,
        "target_fpr": target_fpr,
        "fp_weight": fp_weight,
        **{f"rows_{k}": v for k, v in counts.items()},
    }
    fitted: dict[str, tuple[Any, dict[str, float], float]] = {}
    for name in candidates:
        if progress is not None:
            progress(f"fitting {name}")
        fitted[name] = _fit_candidate(tracker, name, seed, split, params)
    best = max(fitted, key=lambda name: _selection_key(fitted[name][1]))
    pipeline = fitted[best][0]
    validation_scores = attack_probabilities(pipeline, split.validation["text"].tolist())
    threshold = default_threshold(validation_scores, split.validation, target_fpr, fp_list_target)
    model = with_threshold(pipeline, threshold)
    if progress is not None:
        progress(f"evaluating {best} and the signature baseline")
    baseline = SignatureBaseline()
    figures = {
        "val_": evaluate_scores(validation_scores, split.validation, threshold),
        "train_": _figures(model, split.fit, threshold),
        "test_": _figures(model, split.test, threshold),
        "baseline_train_": _figures(baseline, split.fit, 0.5),
        "baseline_test_": _figures(baseline, split.test, 0.5),
    }
    if progress is not None:
        progress("request profile: learning the fit side's normal CSIC requests")
    profile, application = _profile_figures(pipeline, full_split, target_fpr, threshold)
    figures.update(profile)
    run_id, uri = _log_selected(tracker, best, model, params, figures, application)
    version = tracker.register_model(uri, MODEL_NAME, tags={"run_id": run_id})
    decision, champion, champion_held_out = _gate(
        tracker, version, figures, split.test, fp_bound, margin, threshold
    )
    return RequestTrainingReport(
        best=best,
        threshold=threshold,
        target_fpr=target_fpr,
        fp_list_target=fp_list_target,
        candidates={name: values[1] for name, values in fitted.items()},
        in_sample=figures["train_"],
        held_out=figures["test_"],
        baseline_in_sample=figures["baseline_train_"],
        baseline_held_out=figures["baseline_test_"],
        version=version,
        decision=decision,
        champion_version=champion,
        champion_held_out=champion_held_out,
        counts=counts,
        fit_s=sum(values[2] for values in fitted.values()),
        run_id=run_id,
        profile=profile,
    )
