"""``POST /v1/repair/recommend``: ranked repair strategies for one incident's features.

The body is the incident's feature dict (the names of
:data:`selfheal_ml.repair.FEATURE_NAMES`; any omitted feature is 0, an unknown one is a 422
naming it). The answer ranks the strategies with probabilities and says which model version
decided, or that the documented rules decided (``fallback``) and a human should confirm.

The recommender is a port: ``app.state.repair_recommender`` if set, else the runtime's
``repair_recommender`` attribute (or ``runtime.extras["repair_recommender"]``); with none, a
rules-only recommender answers.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, create_model

from selfheal_ml.repair.features import FEATURE_NAMES
from selfheal_ml.training.recommender import RepairRecommender

router = APIRouter(tags=["repair"])

_BOUNDED = {  # features with a natural range; the rest are magnitudes in [0, 50] or counts
    "hour_sin": (-1.0, 1.0),
    "hour_cos": (-1.0, 1.0),
    "weekend": (0.0, 1.0),
    "config_change_recent": (0.0, 1.0),
    "config_change_age_h": (0.0, 24.0),
}
_COUNTS = {"platforms_anomalous", "dependencies_anomalous", "signals_count", "similar_incidents_7d"}


def _field(name: str) -> Any:
    low, high = _BOUNDED.get(name, (0.0, 1e6 if name in _COUNTS else 50.0))
    return (float, Field(default=0.0, ge=low, le=high, allow_inf_nan=False))


if TYPE_CHECKING:

    class IncidentFeaturesIn(BaseModel):
        """The features of one incident."""

else:
    IncidentFeaturesIn = create_model(
        "IncidentFeaturesIn",
        __config__=ConfigDict(extra="forbid"),
        __doc__="The features of one incident (omitted features are 0).",
        **{name: _field(name) for name in FEATURE_NAMES},
    )


class RankedStrategyOut(BaseModel):
    strategy: str
    probability: float


class RecommendationOut(BaseModel):
    strategies: list[RankedStrategyOut]
    model_version: str | None
    fallback: bool
    needs_human_confirmation: bool
    reason: str


def recommender_for(request: Request) -> RepairRecommender:
    """The recommender port (see the module docstring)."""
    found = getattr(request.app.state, "repair_recommender", None)
    runtime = getattr(request.app.state, "runtime", None)
    if found is None and runtime is not None:
        found = getattr(runtime, "repair_recommender", None)
        if found is None:
            found = getattr(runtime, "extras", {}).get("repair_recommender")
    if found is None:
        found = RepairRecommender(tracker=None)
    recommender: RepairRecommender = found
    return recommender


@router.post("/v1/repair/recommend", response_model=RecommendationOut)
async def recommend(body: IncidentFeaturesIn, request: Request) -> RecommendationOut:
    """Ranked strategies with probabilities; ``fallback`` when the rules decided."""
    recommender = recommender_for(request)
    features = {name: float(value) for name, value in body.model_dump().items()}
    answer = await asyncio.to_thread(recommender.recommend, features)
    return RecommendationOut(
        strategies=[
            RankedStrategyOut(strategy=s.strategy, probability=round(s.probability, 6))
            for s in answer.strategies
        ],
        model_version=answer.model_version,
        fallback=answer.fallback,
        needs_human_confirmation=answer.needs_human_confirmation,
        reason=answer.reason,
    )
