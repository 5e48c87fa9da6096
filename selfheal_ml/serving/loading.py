"""Rebuilding a :class:`~selfheal_ml.serving.model.ServedModel` from a serving form (numpy only).

The header names one kind per step and one for the estimator; each kind has one builder here
(an explicit typed mapping, no dynamic import). The arrays are named by position:
``step{i}.{name}`` for step ``i`` and ``estimator.{name}``; tree nodes are ``nodes.{field}``
(children as global node indices, ``-1`` at a leaf) with ``nodes.roots``.

>>> from selfheal_ml.serving.form import FORMAT, VERSION, ServingForm
>>> form = ServingForm(
...     {"format": FORMAT, "version": VERSION, "classes": [0, 1], "feature_names": None,
...      "threshold": 0.9, "steps": [{"kind": "arcsinh"}], "estimator": {"kind": "logistic"}},
...     {"estimator.coef": np.array([[1.0]]), "estimator.intercept": np.array([0.0])})
>>> model = served_model(form)
>>> model.threshold, model.predict(np.array([[1.0], [9.0]])).tolist()
(0.9, [0, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from selfheal_ml.serving.form import ServingForm, ServingFormError
from selfheal_ml.serving.linear import Arcsinh, CalibratedLinearScores, LogisticScores, Standardise
from selfheal_ml.serving.model import Scores, ServedModel, Step
from selfheal_ml.serving.text import HashedNgrams
from selfheal_ml.serving.trees import BoostingScores, ForestScores, TreeNodes


def _optional(form: ServingForm, name: str) -> np.ndarray | None:
    return form.arrays.get(name)


def _standardise(form: ServingForm, spec: Mapping[str, Any], prefix: str) -> Step:
    return Standardise(_optional(form, f"{prefix}.mean"), _optional(form, f"{prefix}.scale"))


def _hashed_ngrams(form: ServingForm, spec: Mapping[str, Any], prefix: str) -> Step:
    return HashedNgrams(
        int(spec["ngram_min"]), int(spec["ngram_max"]), int(spec["bits"]), bool(spec["normalise"])
    )


STEPS: dict[str, Callable[[ServingForm, Mapping[str, Any], str], Step]] = {
    "arcsinh": lambda form, spec, prefix: Arcsinh(),
    "standardise": _standardise,
    "hashed_ngrams": _hashed_ngrams,
}


def tree_nodes(form: ServingForm) -> TreeNodes:
    """The ``nodes.*`` arrays, checked: children inside the node arrays, roots too."""
    left, right = form.array("nodes.left"), form.array("nodes.right")
    roots = form.array("nodes.roots")
    count = len(left)
    if (
        len(right) != count
        or max(left.max(initial=-1), right.max(initial=-1), roots.max()) >= count
    ):
        raise ServingFormError("tree nodes point outside the node arrays")
    return TreeNodes(
        left=left.astype(np.int64),
        right=right.astype(np.int64),
        feature=form.array("nodes.feature").astype(np.int64),
        threshold=form.array("nodes.threshold").astype(np.float64),
        missing_left=form.array("nodes.missing_left").astype(bool),
        roots=roots.astype(np.int64),
    )


def _logistic(form: ServingForm, spec: Mapping[str, Any]) -> Scores:
    return LogisticScores(form.array("estimator.coef"), form.array("estimator.intercept"))


def _calibrated_linear(form: ServingForm, spec: Mapping[str, Any]) -> Scores:
    return CalibratedLinearScores(
        form.array("estimator.coef"),
        form.array("estimator.intercept"),
        form.array("estimator.a"),
        form.array("estimator.b"),
    )


def _forest(form: ServingForm, spec: Mapping[str, Any]) -> Scores:
    return ForestScores(tree_nodes(form), form.array("estimator.value"))


def _boosting(form: ServingForm, spec: Mapping[str, Any]) -> Scores:
    return BoostingScores(
        tree_nodes(form),
        form.array("estimator.value"),
        form.array("estimator.baseline"),
        int(spec["trees_per_iteration"]),
    )


ESTIMATORS: dict[str, Callable[[ServingForm, Mapping[str, Any]], Scores]] = {
    "logistic": _logistic,
    "calibrated_linear": _calibrated_linear,
    "forest": _forest,
    "boosting": _boosting,
}


def _kind(spec: Mapping[str, Any], known: Mapping[str, Any], what: str) -> str:
    kind = spec.get("kind")
    if kind not in known:
        raise ServingFormError(f"unknown {what} kind {kind!r} (known: {sorted(known)})")
    return str(kind)


def served_model(form: ServingForm) -> ServedModel:
    """The model a serving form describes; :class:`ServingFormError` if it cannot be read."""
    form.check_format()
    header = form.header
    try:
        steps = [
            STEPS[_kind(spec, STEPS, "step")](form, spec, f"step{index}")
            for index, spec in enumerate(header["steps"])
        ]
        estimator_spec = header["estimator"]
        estimator = ESTIMATORS[_kind(estimator_spec, ESTIMATORS, "estimator")](form, estimator_spec)
        names = header["feature_names"]
        threshold = header["threshold"]
        return ServedModel(
            steps,
            estimator,
            np.asarray(header["classes"]),
            None if names is None else tuple(str(name) for name in names),
            None if threshold is None else float(threshold),
            texts=bool(header.get("texts", False)),
        )
    except (KeyError, TypeError) as error:
        raise ServingFormError(f"serving form header incomplete: {error!r}") from error
