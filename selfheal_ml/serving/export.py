"""Exporting a fitted scikit-learn model to its serving form (training time only).

:func:`export` reads the fitted attributes scikit-learn itself predicts from: a
``FixedThresholdClassifier``'s threshold, a ``Pipeline``'s steps, a logistic regression's
``coef_`` and ``intercept_``, a calibrated linear SVM's folds and sigmoid calibrators, a
random forest's ``tree_`` arrays (``children_left/right``, ``feature``, ``threshold``,
``missing_go_to_left``, ``value``) and gradient boosting's ``TreePredictor.nodes`` with its
baseline. What :mod:`selfheal_ml.serving.loading` cannot serve the same way raises
:class:`~selfheal_ml.serving.form.NotExportableError`.

This module imports scikit-learn; it runs where the model is trained (a child process of the
service), never where it is served.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

from selfheal_ml.security.ngram_features import HashedCharNgrams
from selfheal_ml.serving.form import FORMAT, VERSION, NotExportableError, ServingForm

Arrays = dict[str, np.ndarray]
log = logging.getLogger("selfheal_ml.serving.export")


def _step(step: Any, prefix: str, arrays: Arrays) -> dict[str, Any]:
    """The header entry of one transform (its arrays go to ``arrays``)."""
    if isinstance(step, FunctionTransformer):
        if step.func is not np.arcsinh or step.kw_args or step.inverse_func is not None:
            raise NotExportableError(f"FunctionTransformer({step.func!r}) is not exportable")
        return {"kind": "arcsinh"}
    if isinstance(step, StandardScaler):
        for name, value in (("mean", step.mean_), ("scale", step.scale_)):
            if value is not None:
                arrays[f"{prefix}.{name}"] = np.asarray(value, dtype=np.float64)
        return {"kind": "standardise"}
    if isinstance(step, HashedCharNgrams):
        names = ("ngram_min", "ngram_max", "bits", "normalise")
        return {"kind": "hashed_ngrams", **{name: getattr(step, name) for name in names}}
    raise NotExportableError(f"step {type(step).__name__} is not exportable")


def _linear(estimator: Any) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(estimator.coef_, dtype=np.float64),
        np.asarray(estimator.intercept_, dtype=np.float64).reshape(-1),
    )


def _calibrated(model: CalibratedClassifierCV, arrays: Arrays) -> dict[str, Any]:
    if model.method != "sigmoid" or len(model.classes_) != 2:
        raise NotExportableError("only two-class sigmoid calibration is exportable")
    coefs, intercepts, slopes, offsets = [], [], [], []
    for fold in model.calibrated_classifiers_:
        if not isinstance(fold.estimator, LinearSVC):
            raise NotExportableError(f"calibrated {type(fold.estimator).__name__}")
        if list(fold.estimator.classes_) != list(model.classes_):
            raise NotExportableError("a calibration fold saw other classes")
        coef, intercept = _linear(fold.estimator)
        coefs.append(coef[0])
        intercepts.append(intercept[0])
        slopes.append(float(fold.calibrators[0].a_))
        offsets.append(float(fold.calibrators[0].b_))
    arrays["estimator.coef"] = np.stack(coefs)
    for name, values in (("intercept", intercepts), ("a", slopes), ("b", offsets)):
        arrays[f"estimator.{name}"] = np.asarray(values, dtype=np.float64)
    return {"kind": "calibrated_linear"}


def _forest(model: RandomForestClassifier, arrays: Arrays) -> dict[str, Any]:
    if model.n_outputs_ != 1:
        raise NotExportableError("a multi-output forest is not exportable")
    trees = [estimator.tree_ for estimator in model.estimators_]
    offsets = np.cumsum([0] + [tree.node_count for tree in trees])
    arrays.update(
        _nodes(
            [tree.children_left for tree in trees],
            [tree.children_right for tree in trees],
            [tree.children_left < 0 for tree in trees],
            offsets,
        )
    )
    arrays["nodes.feature"] = np.concatenate([tree.feature for tree in trees]).astype(np.int64)
    arrays["nodes.threshold"] = np.concatenate([tree.threshold for tree in trees])
    arrays["nodes.missing_left"] = np.concatenate(
        [np.asarray(tree.missing_go_to_left, dtype=bool) for tree in trees]
    )
    arrays["estimator.value"] = np.concatenate([tree.value[:, 0, :] for tree in trees])
    return {"kind": "forest"}


def _nodes(
    left: list[np.ndarray], right: list[np.ndarray], leaf: list[np.ndarray], offsets: np.ndarray
) -> Arrays:
    """Children as global indices (``-1`` at leaves) and each tree's root."""

    def joined(children: list[np.ndarray]) -> np.ndarray:
        parts = [
            np.where(is_leaf, -1, np.asarray(child, dtype=np.int64) + offset)
            for child, is_leaf, offset in zip(children, leaf, offsets[:-1], strict=True)
        ]
        return np.concatenate(parts)

    return {
        "nodes.left": joined(left),
        "nodes.right": joined(right),
        "nodes.roots": np.asarray(offsets[:-1], dtype=np.int64),
    }


def _boosting(model: HistGradientBoostingClassifier, arrays: Arrays) -> dict[str, Any]:
    categorical = model.is_categorical_
    if (categorical is not None and categorical.any()) or model._preprocessor is not None:
        raise NotExportableError("gradient boosting on categorical features is not exportable")
    nodes = [predictor.nodes for iteration in model._predictors for predictor in iteration]
    offsets = np.cumsum([0] + [len(tree) for tree in nodes])
    leaf = [tree["is_leaf"].astype(bool) for tree in nodes]
    arrays.update(_nodes([t["left"] for t in nodes], [t["right"] for t in nodes], leaf, offsets))
    arrays["nodes.feature"] = np.concatenate([t["feature_idx"] for t in nodes]).astype(np.int64)
    arrays["nodes.threshold"] = np.concatenate([t["num_threshold"] for t in nodes])
    arrays["nodes.missing_left"] = np.concatenate(
        [t["missing_go_to_left"].astype(bool) for t in nodes]
    )
    arrays["estimator.value"] = np.concatenate([t["value"] for t in nodes]).astype(np.float64)
    arrays["estimator.baseline"] = np.asarray(model._baseline_prediction, dtype=np.float64)
    return {"kind": "boosting", "trees_per_iteration": int(model.n_trees_per_iteration_)}


def _estimator(model: Any, arrays: Arrays) -> dict[str, Any]:
    """The header entry of the final estimator (its arrays go to ``arrays``)."""
    if isinstance(model, LogisticRegression):
        arrays["estimator.coef"], arrays["estimator.intercept"] = _linear(model)
        return {"kind": "logistic"}
    if isinstance(model, CalibratedClassifierCV):
        return _calibrated(model, arrays)
    if isinstance(model, RandomForestClassifier):
        return _forest(model, arrays)
    if isinstance(model, HistGradientBoostingClassifier):
        return _boosting(model, arrays)
    raise NotExportableError(f"estimator {type(model).__name__} is not exportable")


def _unwrapped(model: Any) -> tuple[Any, float | None]:
    """The model inside a ``FixedThresholdClassifier`` (and its threshold), else ``model``."""
    if not isinstance(model, FixedThresholdClassifier):
        return model, None
    if model.response_method != "predict_proba" or model.pos_label is not None:
        raise NotExportableError("only a predict_proba threshold on the second class")
    threshold = 0.5 if model.threshold == "auto" else float(model.threshold)
    inner = model.estimator_
    return (inner.estimator if isinstance(inner, FrozenEstimator) else inner), threshold


def export(model: Any) -> ServingForm:
    """The serving form of a fitted model (see the module docstring)."""
    inner, threshold = _unwrapped(model)
    steps = [step for _, step in inner.steps] if isinstance(inner, Pipeline) else [inner]
    steps = [step for step in steps if step not in (None, "passthrough")]
    arrays: Arrays = {}
    header_steps = [_step(step, f"step{index}", arrays) for index, step in enumerate(steps[:-1])]
    names = getattr(inner, "feature_names_in_", None)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "classes": np.asarray(model.classes_).tolist(),
        "feature_names": None if names is None else [str(name) for name in names],
        "threshold": threshold,
        "texts": any(step["kind"] == "hashed_ngrams" for step in header_steps),
        "steps": header_steps,
        "estimator": _estimator(steps[-1], arrays),
    }
    return ServingForm(header, arrays)


def serving_form_or_none(model: Any) -> ServingForm | None:
    """:func:`export`, or ``None`` with a warning for a model it does not know: that version
    is then served with scikit-learn (still correct, only heavier)."""
    try:
        return export(model)
    except NotExportableError as error:
        log.warning("no serving form for %s: %s", type(model).__name__, error)
        return None
