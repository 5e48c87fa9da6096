"""What the serving form refuses: models it cannot serve alike, and forms it cannot read."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from selfheal_ml.repair.classifier import build_candidate
from selfheal_ml.serving.export import export, serving_form_or_none
from selfheal_ml.serving.form import NotExportableError, ServingForm, ServingFormError
from selfheal_ml.serving.loading import served_model


def _fitted_forest() -> object:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 3))
    return build_candidate("random_forest", 0).fit(features, (features[:, 0] > 0).astype(int))


@pytest.mark.parametrize(
    "model",
    [
        Pipeline([("log", FunctionTransformer(np.log1p)), ("model", DecisionTreeClassifier())]),
        DecisionTreeClassifier(),
    ],
)
def test_an_unknown_step_or_estimator_is_not_exported(
    model: object, caplog: pytest.LogCaptureFixture
) -> None:
    fitted = model.fit(np.abs(np.arange(20.0).reshape(10, 2)), [0, 1] * 5)  # type: ignore[attr-defined]
    with pytest.raises(NotExportableError):
        export(fitted)
    with caplog.at_level(logging.WARNING):
        assert serving_form_or_none(fitted) is None
    assert "no serving form" in caplog.text


def test_another_format_or_a_newer_version_is_refused() -> None:
    form = export(_fitted_forest())
    for change in ({"format": "something else"}, {"version": form.header["version"] + 1}):
        with pytest.raises(ServingFormError):
            served_model(ServingForm({**form.header, **change}, form.arrays))


def test_an_unknown_kind_or_a_missing_array_is_refused() -> None:
    form = export(_fitted_forest())
    unknown = {**form.header, "estimator": {"kind": "neural_network"}}
    with pytest.raises(ServingFormError, match="neural_network"):
        served_model(ServingForm(unknown, form.arrays))
    missing = {name: array for name, array in form.arrays.items() if name != "estimator.value"}
    with pytest.raises(ServingFormError, match=r"estimator\.value"):
        served_model(ServingForm(form.header, missing))


def test_children_outside_the_nodes_are_refused() -> None:
    form = export(_fitted_forest())
    arrays = dict(form.arrays)
    arrays["nodes.left"] = arrays["nodes.left"].copy()
    arrays["nodes.left"][0] = len(arrays["nodes.left"])
    with pytest.raises(ServingFormError, match="outside"):
        served_model(ServingForm(form.header, arrays))
