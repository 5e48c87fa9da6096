"""Request models shared by several routes."""

from __future__ import annotations

import math

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator


class TimedValue(BaseModel):
    """One observation: a timezone-aware time and a finite value."""

    model_config = ConfigDict(extra="forbid")

    ts: AwareDatetime
    value: float

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return value
