"""Serving forms: the registered models as plain numpy arrays, predicted with numpy alone.

The service serves two models from the MLflow registry: the repair-strategy classifier (the
Repair agent's advice) and the request classifier (the Security agent's scorer). Loading their
scikit-learn pipelines (skops) imports scikit-learn, SciPy and skops into the service for good,
about 120 MB of its 300 MB budget (issue 17). So at training time, in the training process,
:func:`selfheal_ml.serving.export.export` turns the fitted pipeline into a
:class:`~selfheal_ml.serving.form.ServingForm` (a small JSON header and named arrays: linear
coefficients, tree nodes), logged beside the skops model in the same model directory; at
serving time :func:`selfheal_ml.serving.loading.served_model` rebuilds a
:class:`~selfheal_ml.serving.model.ServedModel` with ``predict``, ``predict_proba`` and
``classes_`` from it, importing only numpy.

What is exported, and predicted as scikit-learn 1.9 does (tests check 1e-12 agreement):

- steps ``FunctionTransformer(np.arcsinh)``, ``StandardScaler``,
  :class:`~selfheal_ml.security.ngram_features.HashedCharNgrams`;
- final ``LogisticRegression`` (binary or multinomial), ``CalibratedClassifierCV`` over a
  ``LinearSVC`` (sigmoid, binary), ``RandomForestClassifier`` and
  ``HistGradientBoostingClassifier`` (numeric features, missing values included);
- a ``FixedThresholdClassifier`` around any of those (its threshold travels in the header).

Anything else raises :class:`~selfheal_ml.serving.form.NotExportableError` at training time,
and the service loads that version with scikit-learn, as before.

Only ``export`` imports scikit-learn; ``form``, ``linear``, ``trees``, ``text``, ``model`` and
``loading`` import numpy and the package's own numpy code.
"""
