"""Train, log, register and (maybe) promote the repair-strategy classifier.

:func:`train_and_register` is the whole orchestration, shared by the pipeline script, the CLI
and the Learning agent:

1. split the training set by time (oldest 80 % to fit, newest 20 % to validate);
2. fit the majority and rule baselines and every candidate pipeline, each scored on the
   validation split and on the holdout (a later window, ideally from another seed), each logged
   as one MLflow run of experiment ``repair-strategy``: parameters, training window, accuracy,
   macro-F1, top-2 accuracy, Brier score, per-class report, confusion-matrix plot and (for
   candidates) the model with signature and input example;
3. register the candidate with the best *validation* macro-F1 as a new version of model
   ``repair-strategy`` (the holdout is never used to choose);
4. score the current ``champion`` on the same holdout and move the alias only if the gate
   (:func:`selfheal_ml.repair.promotion_decision`) says so.

Fits run with OpenMP and BLAS limited to one thread: on a busy 2-core machine, oversubscribed
threads made histogram gradient boosting 50x slower.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from threadpoolctl import threadpool_limits

from selfheal_ml.repair.baselines import MajorityBaseline, RuleBaseline
from selfheal_ml.repair.classifier import CANDIDATES, TRUSTED_TYPES, build_candidate
from selfheal_ml.repair.metrics import Scores, score_probabilities
from selfheal_ml.repair.promotion import DEFAULT_MARGIN, PromotionDecision, promotion_decision
from selfheal_ml.serving.export import serving_form_or_none
from selfheal_ml.tracking import Tracker
from selfheal_ml.training.datasets import Dataset
from selfheal_ml.training.registry_names import CHAMPION as CHAMPION
from selfheal_ml.training.registry_names import EXPERIMENT as EXPERIMENT
from selfheal_ml.training.registry_names import MODEL_NAME as MODEL_NAME
from selfheal_ml.training.report import confusion_figure

VALIDATION_FRACTION = 0.2
log = logging.getLogger("selfheal_ml.training")


@dataclass(frozen=True)
class CandidateResult:
    """One fitted candidate and its scores."""

    name: str
    model: Any
    validation: Scores
    holdout: Scores
    fit_s: float
    run_id: str
    model_uri: str


@dataclass(frozen=True)
class TrainingReport:
    """Everything one training run produced (for events, the card and the bench note)."""

    candidates: tuple[CandidateResult, ...]
    best: CandidateResult
    baselines: dict[str, Scores]
    version: str
    decision: PromotionDecision
    champion_version: str | None
    champion_holdout: Scores | None
    train_window: tuple[datetime | None, datetime | None]
    holdout_window: tuple[datetime | None, datetime | None]
    train_count: int
    holdout_count: int
    fit_s: float
    data_source: str = "simulated incident history"
    extra: dict[str, float] = field(default_factory=dict)


def _scores(model: Any, data: Dataset) -> Scores:
    return score_probabilities(model.predict_proba(data.features), model.classes_, data.labels)


def _window_params(train: Dataset, holdout: Dataset) -> dict[str, str]:
    return {
        "train_start": str(train.window[0]),
        "train_end": str(train.window[1]),
        "holdout_start": str(holdout.window[0]),
        "holdout_end": str(holdout.window[1]),
        "train_incidents": str(len(train)),
        "holdout_incidents": str(len(holdout)),
    }


def _log_scores(tracker: Tracker, validation: Scores, holdout: Scores, name: str) -> None:
    metrics = {f"val_{key}": value for key, value in validation.headline().items()}
    metrics.update({f"holdout_{key}": value for key, value in holdout.headline().items()})
    metrics.update(holdout.headline())  # the headline metrics are the holdout's
    tracker.log_metrics(metrics)
    tracker.log_dict(holdout.per_class, "per_class_report.json")
    tracker.log_figure(confusion_figure(holdout, f"{name}: holdout"), "confusion_matrix.png")


def _simple_params(model: Any) -> dict[str, str]:
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    params = final.get_params() if hasattr(final, "get_params") else {}
    return {
        f"model__{key}": str(value)
        for key, value in params.items()
        if isinstance(value, int | float | str | bool) or value is None
    }


def _fit_candidate(
    tracker: Tracker,
    name: str,
    seed: int,
    fit: Dataset,
    validation: Dataset,
    holdout: Dataset,
    windows: dict[str, str],
    baselines: dict[str, Scores],
) -> CandidateResult:
    model = build_candidate(name, seed)
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        model.fit(fit.features, list(fit.labels))
    fit_s = time.perf_counter() - started
    val_scores, holdout_scores = _scores(model, validation), _scores(model, holdout)
    with tracker.run(EXPERIMENT, name, tags={"role": "candidate"}) as run:
        tracker.log_params({"candidate": name, "seed": seed, **windows, **_simple_params(model)})
        _log_scores(tracker, val_scores, holdout_scores, name)
        tracker.log_metrics({"fit_s": fit_s})
        tracker.log_metrics(
            {f"baseline_{b}_{k}": v for b, s in baselines.items() for k, v in s.headline().items()}
        )
        model_uri = tracker.log_sklearn_model(
            model,
            "model",
            holdout.features.head(5),
            trusted_types=TRUSTED_TYPES,
            serving_form=serving_form_or_none(model),  # the service predicts from this
        )
        run_id = str(run.info.run_id)
    return CandidateResult(name, model, val_scores, holdout_scores, fit_s, run_id, model_uri)


def _baselines(
    tracker: Tracker, fit: Dataset, validation: Dataset, holdout: Dataset, windows: dict[str, str]
) -> dict[str, Scores]:
    results: dict[str, Scores] = {}
    for name, baseline in (("majority", MajorityBaseline()), ("rules", RuleBaseline())):
        baseline.fit(fit.features, list(fit.labels))
        val_scores, holdout_scores = _scores(baseline, validation), _scores(baseline, holdout)
        with tracker.run(EXPERIMENT, f"baseline-{name}", tags={"role": "baseline"}):
            tracker.log_params({"candidate": f"baseline-{name}", **windows})
            _log_scores(tracker, val_scores, holdout_scores, f"baseline-{name}")
        results[name] = holdout_scores
    return results


def champion_scores(tracker: Tracker, holdout: Dataset) -> tuple[str | None, Scores | None]:
    """The current champion's version and its scores on ``holdout`` (``None`` if none)."""
    version = tracker.alias_version(MODEL_NAME, CHAMPION)
    if version is None:
        return None, None
    try:
        model = tracker.load_sklearn_model(f"models:/{MODEL_NAME}@{CHAMPION}")
        return version, _scores(model, holdout)
    except Exception as exc:  # an unusable champion must not block a usable challenger
        log.warning("champion version %s cannot be scored: %s", version, exc)
        return version, None


def _gate(
    tracker: Tracker, best: CandidateResult, holdout: Dataset, version: str, margin: float
) -> tuple[PromotionDecision, str | None, Scores | None]:
    current, current_scores = champion_scores(tracker, holdout)
    if current is not None and current_scores is None:
        decision = PromotionDecision(True, f"champion v{current} cannot be scored on the holdout")
    else:
        decision = promotion_decision(best.holdout, current_scores, margin)
    if decision.promote:
        tracker.set_alias(MODEL_NAME, CHAMPION, version)
    tracker.set_version_tags(
        MODEL_NAME,
        version,
        {
            "candidate": best.name,
            "role": CHAMPION if decision.promote else "challenger",
            "gate_reason": decision.reason,
            **{f"holdout_{k}": f"{v:.6f}" for k, v in best.holdout.headline().items()},
        },
    )
    return decision, version if decision.promote else current, current_scores


def train_and_register(
    tracker: Tracker,
    train: Dataset,
    holdout: Dataset,
    *,
    seed: int = 0,
    candidates: Sequence[str] = tuple(CANDIDATES),
    margin: float = DEFAULT_MARGIN,
    progress: Callable[[str], None] | None = None,
) -> TrainingReport:
    """The whole orchestration (see the module docstring)."""
    if len(train) < 10 or len(holdout) == 0:
        raise ValueError(
            f"need >= 10 training and >= 1 holdout incidents, got {len(train)} and {len(holdout)}"
        )
    fit, validation = train.split(1.0 - VALIDATION_FRACTION)
    windows = _window_params(train, holdout)
    baselines = _baselines(tracker, fit, validation, holdout, windows)
    results: list[CandidateResult] = []
    for name in candidates:
        if progress is not None:
            progress(name)
        try:
            results.append(
                _fit_candidate(tracker, name, seed, fit, validation, holdout, windows, baselines)
            )
        except ValueError as error:  # e.g. a class too rare for early stopping's inner split
            log.warning("candidate %s could not be trained on this data: %s", name, error)
    if not results:
        raise ValueError(f"no candidate could be trained on {len(fit)} incidents")
    best = max(results, key=lambda r: (r.validation.macro_f1, r.validation.top2_accuracy))
    version = tracker.register_model(best.model_uri, MODEL_NAME, tags={"run_id": best.run_id})
    decision, champion, champion_holdout = _gate(tracker, best, holdout, version, margin)
    return TrainingReport(
        candidates=tuple(results),
        best=best,
        baselines=baselines,
        version=version,
        decision=decision,
        champion_version=champion,
        champion_holdout=champion_holdout,
        train_window=train.window,
        holdout_window=holdout.window,
        train_count=len(train),
        holdout_count=len(holdout),
        fit_s=sum(result.fit_s for result in results),
    )
