"""Alerts and silences, plus Alertmanager's ingest endpoint so we can sit behind Prometheus."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from selfheal_ml.alerting.model import PostableAlert
from selfheal_ml.alerting.silences import Matcher
from selfheal_ml.api.deps import AdminDep, ComputeDep, LimitsDep, RuntimeDep
from selfheal_ml.api.request_limits import check_alerts, check_matcher_patterns
from selfheal_ml.runtime import Runtime

router = APIRouter(tags=["alerts"])


class MatcherIn(BaseModel):
    """An Alertmanager matcher: ``name``, ``value``, ``isRegex``, ``isEqual``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    value: str
    isRegex: bool = False  # noqa: N815 - Alertmanager's field name
    isEqual: bool = True  # noqa: N815


class SilenceIn(BaseModel):
    """Alertmanager's ``PostableSilence``."""

    model_config = ConfigDict(extra="forbid")

    matchers: list[MatcherIn] = Field(min_length=1)
    startsAt: AwareDatetime  # noqa: N815
    endsAt: AwareDatetime  # noqa: N815
    createdBy: str = Field(min_length=1)  # noqa: N815
    comment: str = ""

    @model_validator(mode="after")
    def _ends_after_start(self) -> SilenceIn:
        if self.endsAt <= self.startsAt:
            raise ValueError("endsAt must be after startsAt")
        return self


def _alerts_json(runtime: Runtime, status: str | None, limit: int) -> list[dict[str, Any]]:
    return [alert.model_dump(mode="json") for alert in runtime.alerts.alerts(status, limit)]


@router.get("/v1/alerts")
async def list_alerts(
    runtime: RuntimeDep,
    pool: ComputeDep,
    status: Literal["firing", "resolved", "all"] = "all",
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Recent alerts, newest first, each with the silences muting it (matched in a worker)."""
    return await pool.run(_alerts_json, runtime, None if status == "all" else status, limit)


@router.post("/v1/silences")
async def create_silence(
    body: SilenceIn, runtime: RuntimeDep, limits: LimitsDep, _: AdminDep
) -> dict[str, str]:
    """Silence matching alerts between ``startsAt`` and ``endsAt`` (regexes: RE2 syntax)."""
    regexes = [(index, m.value) for index, m in enumerate(body.matchers) if m.isRegex]
    check_matcher_patterns(regexes, limits)
    matchers = [
        Matcher(name=m.name, value=m.value, is_regex=m.isRegex, is_equal=m.isEqual)
        for m in body.matchers
    ]
    silence_id = await asyncio.to_thread(
        runtime.alerts.add_silence,
        matchers,
        body.startsAt,
        body.endsAt,
        body.createdBy,
        body.comment,
    )
    return {"silenceID": silence_id}


@router.get("/v1/silences")
def list_silences(runtime: RuntimeDep) -> list[dict[str, Any]]:
    return [silence.model_dump(mode="json") for silence in runtime.alerts.silences()]


@router.post("/api/v2/alerts")
async def ingest_alerts(
    body: list[PostableAlert], runtime: RuntimeDep, limits: LimitsDep, _: AdminDep
) -> dict[str, int]:
    """Alertmanager's ingest shape: a JSON array of alerts, e.g. from Prometheus, stored in
    one transaction."""
    check_alerts(body, limits)
    accepted = await asyncio.to_thread(runtime.alerts.ingest, body)
    return {"accepted": accepted}
