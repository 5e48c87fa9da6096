"""``RepairRecommender``: the served champion plus the documented fallback.

Holds the model that ``models:/repair-strategy@champion`` points at (loaded through
:meth:`~selfheal_ml.tracking.Tracker.load_served_model`: its numpy serving form, so the service
does not import scikit-learn; a version without one is loaded with scikit-learn) and answers
:meth:`recommend` with a :class:`~selfheal_ml.repair.Recommendation`. Without a tracker,
without a champion, or when loading fails, it answers from the rules (``fallback=True``, a
human must confirm). The model and its version are swapped together, so a concurrent reader
never sees a mix.

>>> recommender = RepairRecommender(tracker=None)
>>> recommender.recommend({"db_up_down": 30.0}).strategies[0].strategy
'reset_db_connections'
>>> recommender.recommend({}).fallback
True
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from selfheal_ml.repair.features import feature_frame
from selfheal_ml.repair.recommend import DEFAULT_CONFIDENCE_FLOOR, Recommendation, decide
from selfheal_ml.tracking import tracking_store_exists
from selfheal_ml.training.registry_names import CHAMPION, MODEL_NAME

if TYPE_CHECKING:
    from selfheal_ml.tracking import Tracker

log = logging.getLogger("selfheal_ml.training.recommender")


class RepairRecommender:
    """Recommends repair strategies from the champion model, or from the rules."""

    def __init__(
        self,
        tracker: Tracker | None,
        *,
        model_name: str = MODEL_NAME,
        floor: float = DEFAULT_CONFIDENCE_FLOOR,
    ) -> None:
        self.tracker = tracker
        self.model_name = model_name
        self.floor = floor
        self._loaded: tuple[Any, str] | None = None
        self._tried = False  # reload() ran at least once

    @property
    def model_version(self) -> str | None:
        """The version being served, or ``None`` (rules only)."""
        return None if self._loaded is None else self._loaded[1]

    def use(self, model: Any, version: str) -> None:
        """Serve ``model`` as ``version`` (e.g. right after the Learning agent promoted it)."""
        self._loaded = (model, version)

    def invalidate(self) -> None:
        """The champion moved where this process did not see it (a training child promoted a
        model): the next :meth:`recommend` reads the registry again."""
        self._tried = False

    def reload(self) -> bool:
        """Load the current champion if it changed; ``True`` if a champion is being served."""
        self._tried = True
        if self.tracker is None:
            return self._loaded is not None
        try:
            version = self.tracker.alias_version(self.model_name, CHAMPION)
            if version is not None and version != self.model_version:
                uri = f"models:/{self.model_name}@{CHAMPION}"
                model = self.tracker.load_served_model(uri)
                self._loaded = (model, version)
                log.info(
                    "serving %s version %s (%s)", self.model_name, version, type(model).__name__
                )
        except Exception as exc:  # the service keeps answering from the rules
            log.warning("cannot load %s@%s: %s", self.model_name, CHAMPION, exc)
        return self._loaded is not None

    def recommend(self, features: Mapping[str, float]) -> Recommendation:
        """Ranked strategies for one incident's features. The first call loads the champion
        if nobody asked for it yet (a process without the agents that use it reads the registry
        only when a recommendation is asked for)."""
        if not self._tried and self.tracker is not None:
            self._tried = True
            if tracking_store_exists(self.tracker.tracking_uri):  # else MLflow has none
                self.reload()
        loaded = self._loaded
        if loaded is None:
            return decide(None, features, self.floor)
        model, version = loaded
        row = model.predict_proba(feature_frame([features]))[0]
        probabilities = {
            str(name): float(value) for name, value in zip(model.classes_, row, strict=True)
        }
        return decide(probabilities, features, self.floor, model_version=version)
