"""Anomaly scoring on demand and the list of recent anomalies.

``POST /v1/anomaly/score`` scores a batch of points of one series with a private copy of the
live detector for that series (so the answer reflects what the Predictive agent has learned,
and the request changes nothing in the live state); a series the agent has not seen gets a
fresh detector, which scores 0 until it has warmed up. The copy is taken in a worker thread
(the live bank lives in this process) and scored, and the answer encoded, in a compute worker
process (``api/compute.py``), which imports the detectors: the API process does not.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from selfheal_ml.api.deps import ComputeDep, LimitsDep, RuntimeDep
from selfheal_ml.api.request_limits import check_point_count, check_series_name
from selfheal_ml.api.schemas import TimedValue
from selfheal_ml.errors import ValidationError
from selfheal_ml.runtime import Runtime

if TYPE_CHECKING:  # the detectors (river, scipy) are imported by the first score request
    from selfheal_ml.anomaly.bank import DetectorBank

router = APIRouter(tags=["anomalies"])

MAX_POINTS = 10_000


class ScoreRequest(BaseModel):
    """A series name and its points, oldest first."""

    model_config = ConfigDict(extra="forbid")

    series: str = Field(min_length=1, max_length=500)
    points: list[TimedValue] = Field(min_length=1, max_length=MAX_POINTS)


class PointScoreOut(BaseModel):
    """The verdict on one point."""

    ts: AwareDatetime
    value: float
    score: float
    is_anomaly: bool
    expected_low: float | None
    expected_high: float | None
    component: str


def _check_order(points: list[TimedValue]) -> None:
    for index in range(1, len(points)):
        if points[index].ts <= points[index - 1].ts:
            problem = "duplicate" if points[index].ts == points[index - 1].ts else "unsorted"
            raise ValidationError(
                f"body.points[{index}].ts",
                f"{problem} timestamp: expected strictly increasing times, got "
                f"{points[index].ts.isoformat()} after {points[index - 1].ts.isoformat()}",
            )


def _live_copy(runtime: Runtime, series: str) -> DetectorBank | None:
    """A copy of the live state of ``series`` (what-if scoring must not teach the live bank),
    or ``None`` (score with a fresh bank) when the Predictive agent does not run here."""
    supervised = runtime.agents.get("Predictive")
    if supervised is None:
        return None
    from selfheal_ml.scoring import ShardedBank  # loaded with the Predictive agent

    bank = getattr(supervised.agent, "bank", None)
    return bank.merged([series]) if isinstance(bank, ShardedBank) else None


def score_points(
    bank: DetectorBank | None, series: str, points: list[tuple[datetime, float]]
) -> dict[str, Any]:
    """The answer for ``points`` (time, value) of ``series``, scored with ``bank`` (a fresh
    one if ``None``); runs in a compute worker process (plain tuples: they pickle quickly)."""
    from selfheal_ml.anomaly.bank import DetectorBank

    bank = DetectorBank() if bank is None else bank
    scored = []
    for ts, value in points:
        verdict = bank.score(series, ts, value)
        scored.append(
            PointScoreOut(
                ts=ts,
                value=value,
                score=verdict.calibrated,
                is_anomaly=verdict.is_anomaly,
                expected_low=verdict.expected_low,
                expected_high=verdict.expected_high,
                component=verdict.component,
            )
        )
    return {"series": series, "points": [point.model_dump(mode="json") for point in scored]}


@router.post("/v1/anomaly/score", response_model=dict[str, Any])
async def score(
    request: ScoreRequest, runtime: RuntimeDep, pool: ComputeDep, limits: LimitsDep
) -> Response:
    """Score each point (calibrated score, anomaly flag, expected range)."""
    check_series_name(request.series, limits, "body.series")
    check_point_count(len(request.points), limits, "body.points")
    _check_order(request.points)
    bank = await pool.run(_live_copy, runtime, request.series)
    points = [(point.ts, point.value) for point in request.points]
    body = await pool.run_isolated(score_points, bank, request.series, points)
    return Response(body, media_type="application/json")


@router.get("/v1/anomalies")
async def recent_anomalies(
    runtime: RuntimeDep,
    pool: ComputeDep,
    limit: int = Query(default=100, ge=1, le=1000),
    series: str | None = None,
) -> list[dict[str, Any]]:
    """Recent anomalies, newest first, with their explanation fields."""
    return await pool.run(_recent, runtime, limit, series)


def _recent(runtime: Runtime, limit: int, series: str | None) -> list[dict[str, Any]]:
    return [
        {
            "event_id": record.event_id,
            "series": record.series,
            "ts": record.ts.isoformat(),
            "value": record.value,
            "score": record.calibrated,
            "expected_low": record.expected_low,
            "expected_high": record.expected_high,
            "component": record.component,
            "correlation_id": record.correlation_id,
        }
        for record in runtime.anomalies.recent(limit, series)
    ]
