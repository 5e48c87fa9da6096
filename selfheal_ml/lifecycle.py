"""The incident lifecycle's vocabulary: statuses and the typed, frozen :class:`Diagnosis`.

An incident moves through explicit states::

    opened -> diagnosed -> repairing -> verifying -> resolved
                 |  ^          |            |
                 |  +----------+------------+  (did not work: the next step of the plan)
                 +--> recovered   (its signals came back before any repair)
                 +--> escalated   (no safe repair, approval refused or timed out, breaker open)

Every diagnosis is a numbered revision (``revision`` 1, 2, ...): when later evidence moves the
top cause, the Diagnostic agent publishes a new one, and the incident record keeps them all.
The diagnosis is what every other part reads: the Repair agent (strategy, target, parameters,
triggers to verify against), the Learning agent (signals, features, signature), the
AlertManager, the API, the dashboard and the notebook. It travels as this type, never as a
free-form dict, and is stored as its JSON (:meth:`Diagnosis.model_dump_json`).

These are foundation types (pydantic, no I/O), so that events can carry them.

>>> from datetime import UTC, datetime
>>> diagnosis = Diagnosis(
...     revision=1, opened_at=datetime(2026, 1, 5, tzinfo=UTC), root_cause="db_unreachable",
...     component="postgres", platforms=("leadsite.ai", "tackle.io"), severity="critical",
...     strategy="reset_db_connections", confidence=0.8,
... )
>>> diagnosis.label
'db_unreachable@postgres'
>>> Diagnosis.model_validate_json(diagnosis.model_dump_json()) == diagnosis
True
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Severity = Literal["critical", "warning", "info"]
ParameterValue = str | int | float | bool | list[str]


class IncidentStatus(StrEnum):
    """Where an incident is in its lifecycle (see the module docstring)."""

    OPENED = "opened"
    DIAGNOSED = "diagnosed"
    REPAIRING = "repairing"
    VERIFYING = "verifying"
    RESOLVED = "resolved"
    RECOVERED = "recovered"
    ESCALATED = "escalated"

    @property
    def closed(self) -> bool:
        """Whether the incident is over (a new fault never joins a closed incident)."""
        return self in (IncidentStatus.RESOLVED, IncidentStatus.RECOVERED)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObservedSignal(_Frozen):
    """One anomalous series of the incident: ``score`` is signed (up > 0), calibrated z-like."""

    metric: str
    score: float
    platform: str | None = None
    dependency: str | None = None
    status_class: str | None = None


class Trigger(_Frozen):
    """A signal the Repair agent watches to verify recovery: a threshold alert that must clear
    (``kind="alert"``, ``key`` the alert's key) or a series that must come back inside
    ``[low, high]`` (``kind="range"``, ``key`` the series)."""

    kind: Literal["alert", "range"]
    key: str
    component: str | None = None
    low: float | None = None
    high: float | None = None
    value: float | None = None


class CauseCandidate(_Frozen):
    """One ranked root-cause candidate (``score`` ranks, ``fit`` is the symptom match)."""

    cause: str
    component: str
    score: float
    fit: float
    strategy: str
    evidence: tuple[str, ...] = ()
    onset: AwareDatetime | None = None
    alternatives: tuple[str, ...] = ()  # riskier fixes of the same cause

    @property
    def label(self) -> str:
        """``cause@component``."""
        return f"{self.cause}@{self.component}"


class StrategyProbability(_Frozen):
    """One strategy of the classifier's ranking."""

    strategy: str
    probability: float


class ClassifierAdvice(_Frozen):
    """The repair classifier's answer; ``fallback`` means the rules answered, not a model."""

    strategies: tuple[StrategyProbability, ...] = ()
    model_version: str | None = None
    fallback: bool = True
    needs_human_confirmation: bool = True
    reason: str = ""


class SimilarPast(_Frozen):
    """A similar past incident and how it ended."""

    incident_id: str
    opened_at: AwareDatetime | None = None
    similarity: float
    root_cause: str | None = None
    resolved_by: str | None = None
    status: str | None = None


class Impact(_Frozen):
    """Who is hurt, in a line a person reads."""

    platforms: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    error_budget_burned: float = 0.0
    text: str = ""


class Diagnosis(_Frozen):
    """One revision of an incident's diagnosis (see the module docstring).

    ``root_cause`` is the top candidate's cause (``None``: no known signature matched) on
    ``component``; ``target_platform`` is the platform an action on that component is
    addressed to; ``strategy`` the recommended repair and ``known_fix`` the runbook's fix of
    the top cause (the least risky one, unless an investigation backs another of its fixes);
    ``parameters`` the executor parameters investigators found, by strategy. ``enforced_by``
    names the agent that already carries the fix out (``Security``: an attack's bans), so the
    Repair agent leaves the incident alone.
    """

    revision: int = Field(ge=1)
    opened_at: AwareDatetime
    root_cause: str | None = None
    component: str | None = None
    target_platform: str | None = None
    platforms: tuple[str, ...] = ()
    severity: Severity = "warning"
    strategy: str | None = None
    known_fix: str | None = None
    parameters: dict[str, dict[str, ParameterValue]] = Field(default_factory=dict)
    confidence: float = 0.0
    evidence: tuple[str, ...] = ()
    summary: str = ""
    signature: str = ""
    signals: tuple[ObservedSignal, ...] = ()
    features: dict[str, float] = Field(default_factory=dict)
    candidates: tuple[CauseCandidate, ...] = ()
    advice: ClassifierAdvice | None = None
    triggers: tuple[Trigger, ...] = ()
    similar: tuple[SimilarPast, ...] = ()
    impact: Impact = Field(default_factory=Impact)
    findings: tuple[str, ...] = ()
    enforced_by: str | None = None

    @property
    def label(self) -> str | None:
        """``cause@component`` of the top candidate, ``None`` without one."""
        if self.root_cause is None:
            return None
        return f"{self.root_cause}@{self.component}" if self.component else self.root_cause

    @property
    def root_causes(self) -> tuple[str, ...]:
        """The top three candidates' labels, best first."""
        return tuple(candidate.label for candidate in self.candidates[:3])
