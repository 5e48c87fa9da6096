"""Loading the request scorer the Security agent uses: the champion, else the signatures.

:func:`load_request_scorer` asks the MLflow registry for ``models:/request-classifier@champion``
(through :meth:`~selfheal_ml.tracking.Tracker.load_served_model`: the version's numpy serving
form, without scikit-learn, SciPy or skops; a version without one is loaded with
scikit-learn). The registered model carries its default threshold (a
``FixedThresholdClassifier``; the serving form keeps it), so the scorer's ``is_attack``
answers at the threshold chosen on validation. Without a tracker, without a champion, or
when loading fails, the documented signature baseline answers instead, and a warning says so:
a service that scores with signatures must not look like one that scores with the model.

``with_application_profile`` also loads the application request profile the version carries
(:mod:`~selfheal_ml.security.application_profile`; ``pipelines/score_requests.py`` asks for
it). The service does not: its Security agent learns one profile per platform, live, and the
shipped profile of the training data's application would only cost it memory.

>>> scorer = load_request_scorer(None)
>>> scorer.source, scorer.version
('signatures', None)
"""

from __future__ import annotations

import logging

from selfheal_ml.security.application_profile import (
    PROFILE_FILE,
    ApplicationProfile,
    ApplicationProfileError,
)
from selfheal_ml.security.request_classifier import RequestScorer
from selfheal_ml.tracking import Tracker

log = logging.getLogger("selfheal_ml.training.request_scorer")

#: The registered model and its serving alias (here, not in ``request_training``, which
#: imports pandas and scikit-learn: the service loads the scorer without training anything).
MODEL_NAME = "request-classifier"
CHAMPION = "champion"


def load_request_scorer(
    tracker: Tracker | None, model_name: str = MODEL_NAME, with_application_profile: bool = False
) -> RequestScorer:
    """The champion's scorer, or the signature baseline (logged as a warning)."""
    if tracker is None:
        log.warning("request classifier: no model registry configured; using signatures")
        return RequestScorer.signature_baseline()
    try:
        version = tracker.alias_version(model_name, CHAMPION)
        if version is None:
            log.warning(
                "request classifier: no %s@%s registered; using signatures", model_name, CHAMPION
            )
            return RequestScorer.signature_baseline()
        model = tracker.load_served_model(f"models:/{model_name}@{CHAMPION}")
    except Exception as exc:  # the service keeps scoring, with the signatures
        log.warning("request classifier: cannot load %s@%s (%s); using signatures",
                    model_name, CHAMPION, exc)  # fmt: skip
        return RequestScorer.signature_baseline()
    log.info("request classifier: serving %s version %s", model_name, version)
    scorer = RequestScorer.from_thresholded(model, f"{model_name}@{CHAMPION}", version)
    if with_application_profile:
        scorer.application = _application_profile(tracker, f"models:/{model_name}/{version}")
    return scorer


def _application_profile(tracker: Tracker, model_uri: str) -> ApplicationProfile | None:
    """The application profile ``model_uri`` carries; ``None`` (logged) when it has none."""
    try:
        data = tracker.model_extra_json(model_uri, PROFILE_FILE)
        if data is None:
            log.info("request classifier: %s carries no application profile", model_uri)
            return None
        return ApplicationProfile.from_json(data)
    except (ApplicationProfileError, ValueError, OSError) as error:
        log.warning("request classifier: application profile of %s unusable: %s", model_uri, error)
        return None
