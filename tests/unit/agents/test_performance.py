"""The Performance agent: findings on optimise ticks, announced once, indexes via the guard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.performance import PerformanceAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    IncidentDiagnosed,
    MetricPoint,
    MetricsCollected,
    OptimizationFound,
    Tick,
)
from selfheal_ml.lifecycle import Diagnosis
from selfheal_ml.performance import Finding, FindingBoard, Snapshot, StatementStats

START = datetime(2026, 1, 5, tzinfo=UTC)
MISSING = Finding(
    kind="missing_index",
    table="events",
    columns=("account_id",),
    fingerprint="f1",
    mean_ms=40.0,
    calls=100,
)
UNUSED = Finding(kind="unused_index", table="events", index="events_note_idx")


@dataclass
class Round:
    findings: list[Finding]
    snapshot: Snapshot
    queries: int = 4
    samples: int = 0


class ScriptedAnalyser:
    """Answers each round with the next scripted result (``None``: the server is down)."""

    def __init__(self, rounds: list[Round | None], platform: str | None = "shop") -> None:
        self.rounds = rounds
        self.platform = platform
        self.problem_open: list[bool] = []
        self.requests: list[int | None] = []

    async def try_round(
        self, sample_seconds: float, problem_open: bool = False, requests: int | None = None
    ) -> Round | None:
        self.problem_open.append(problem_open)
        self.requests.append(requests)
        return self.rounds.pop(0)

    async def try_watch(self, seconds: float) -> Round | None:
        self.watched = seconds
        return self.rounds.pop(0)


@dataclass
class Attempt:
    attempt_id: str
    decision: str
    reason: str = ""
    approval_id: str | None = None
    result: Any = None

    @property
    def executed(self) -> bool:
        return self.result is not None


@dataclass
class ApprovingService:
    """Holds every proposal for approval; ``approve`` makes it executed."""

    proposed: list[Any] = field(default_factory=list)
    answers: dict[str, Attempt] = field(default_factory=dict)
    outcomes: list[tuple[str, bool]] = field(default_factory=list)

    async def propose(self, request: Any) -> Attempt:
        self.proposed.append(request)
        return Attempt("a1", "pending_approval", approval_id="a1")

    def approve(self) -> None:
        self.answers["a1"] = Attempt("a2", "executed", approval_id="a1", result=object())

    def answer(self, approval_id: str) -> Attempt | None:
        return self.answers.get(approval_id)

    async def record_outcome(self, attempt_id: str, worked: bool) -> None:
        self.outcomes.append((attempt_id, worked))


def agent(rounds: list[Round | None], service: Any = None) -> PerformanceAgent:
    extras: dict[str, Any] = {
        "performance_analysers": {"main-db": ScriptedAnalyser(rounds)},
        "optimization_board": FindingBoard(),
        "performance": {"sample_s": 0.0, "propose_indexes": True},
    }
    if service is not None:
        extras["repair_service"] = service
    return PerformanceAgent(
        AgentContext(bus=InMemoryEventBus(), clock=SimClock(START), extras=extras)
    )


def tick(kind: str = "optimize", at: datetime = START) -> Tick:
    return Tick(ts=at, source="scheduler", kind=kind)


def window(mean_ms: float | None = None) -> Snapshot:
    statements = () if mean_ms is None else (StatementStats("f1", "SELECT", 50, mean_ms),)
    return Snapshot(window_s=300.0, statements=statements)


async def test_new_findings_become_events_once_and_stay_on_the_board() -> None:
    performance = agent([Round([MISSING, UNUSED], window()), Round([MISSING, UNUSED], window())])
    first = await performance.handle(tick())
    assert [(e.kind, e.table) for e in first if isinstance(e, OptimizationFound)] == [
        ("missing_index", "events"),
        ("unused_index", "events"),
    ]
    assert first[0].channel == "system.optimization"
    assert first[0].suggestion == "" and first[0].columns == ("account_id",)
    assert await performance.handle(tick()) == []
    assert [f.kind for _, f in performance.board.current()] == ["missing_index", "unused_index"]


async def test_other_ticks_and_an_unreachable_server_change_nothing() -> None:
    performance = agent([None])
    assert await performance.handle(tick("health")) == []
    assert await performance.handle(tick()) == []
    assert performance.board.current() == []


async def test_a_missing_index_waits_for_approval_then_is_verified_by_its_mean() -> None:
    service = ApprovingService()
    performance = agent(
        [Round([MISSING], window(40.0)), Round([MISSING], window(35.0)), Round([], window(3.0))],
        service,
    )
    await performance.handle(tick())
    [request] = service.proposed
    assert (request.action, request.risk) == ("pg_create_index_concurrently", "high")
    assert request.params == {"table": "events", "columns": ["account_id"], "schema": None}
    await performance.handle(tick())  # still waiting: nothing verified
    assert service.outcomes == []
    service.approve()
    await performance.handle(tick())
    assert service.outcomes == [("a2", True)]  # 40 ms -> 3 ms


async def test_nothing_is_proposed_unless_the_setting_asks_for_it() -> None:
    service = ApprovingService()
    performance = agent([Round([MISSING], window())], service)
    performance.indexes = None  # what propose_indexes = false (the default) builds
    await performance.handle(tick())
    assert service.proposed == []
    context = AgentContext(
        bus=InMemoryEventBus(), clock=SimClock(START), extras={"repair_service": service}
    )
    assert PerformanceAgent(context).indexes is None


async def test_dropping_an_index_is_never_proposed() -> None:
    service = ApprovingService()
    await agent([Round([UNUSED], window())], service).handle(tick())
    assert service.proposed == []


def diagnosed(cause: str, component: str = "main-db", incident: str = "i1") -> IncidentDiagnosed:
    diagnosis = Diagnosis(revision=1, opened_at=START, root_cause=cause, component=component)
    return IncidentDiagnosed(
        ts=START,
        source="Diagnostic",
        incident_id=incident,
        diagnosis=diagnosis,
        correlation_id="incident-1",
    )


async def test_a_slow_query_incident_is_analysed_at_once_in_the_incident_s_story() -> None:
    slow = Finding(kind="slow_query", fingerprint="f2", mean_ms=300.0, calls=4)
    performance = agent([Round([MISSING, UNUSED, slow], window())])
    events = await performance.handle(diagnosed("slow_query"))
    assert [(e.kind, e.correlation_id) for e in events if isinstance(e, OptimizationFound)] == [
        ("missing_index", "incident-1"),
        ("slow_query", "incident-1"),
    ]
    assert await performance.handle(diagnosed("slow_query")) == []  # a later revision


async def test_other_causes_and_unwatched_databases_are_not_analysed() -> None:
    performance = agent([Round([MISSING], window())])
    assert await performance.handle(diagnosed("db_unreachable")) == []
    assert await performance.handle(diagnosed("slow_query", component="other-db")) == []


def alert(name: str, labels: dict[str, str], firing: bool = True) -> AlertRaised:
    return AlertRaised(
        ts=START, source="Monitor", alertname=name, severity="warning", labels=labels,
        firing=firing,
    )  # fmt: skip


async def test_rounds_sample_only_while_a_latency_problem_is_open_on_the_database_s_platform() -> (
    None
):
    performance = agent([Round([], window()) for _ in range(6)])
    analyser = performance.analysers["main-db"]
    await performance.handle(tick())  # nothing wrong
    await performance.handle(alert("HighResponseTime", {"target": "api", "platform": "shop"}))
    await performance.handle(tick())  # the API of a platform using the database is slow
    await performance.handle(
        alert("HighResponseTime", {"target": "api", "platform": "shop"}, False)
    )
    await performance.handle(alert("HighCpu", {"target": "api", "platform": "shop"}))
    await performance.handle(alert("SlowQueries", {"target": "other-db", "platform": "other"}))
    await performance.handle(tick())  # resolved; other alerts and other databases do not count
    anomaly = AnomalyDetected(
        ts=START, source="Predictive", series="db_query_duration_ms{target=main-db}", value=90.0,
        score=9.0, expected_low=1.0, expected_high=5.0, detector="bank",
        labels={"target": "main-db"},
    )  # fmt: skip
    await performance.handle(anomaly)
    await performance.handle(tick(at=START + timedelta(seconds=600)))  # held 900 s
    await performance.handle(tick(at=START + timedelta(seconds=901)))
    assert analyser.problem_open == [False, True, False, True, False]


async def test_a_slow_query_diagnosis_keeps_its_database_s_rounds_sampling() -> None:
    performance = agent([Round([], window()), Round([], window()), Round([], window())])
    await performance.handle(diagnosed("slow_query"))
    await performance.handle(tick(at=START + timedelta(seconds=300)))
    await performance.handle(diagnosed("db_unreachable", incident="i2"))
    await performance.handle(tick(at=START + timedelta(seconds=1000)))
    assert performance.analysers["main-db"].problem_open == [True, False]


def endpoint_points(at: datetime, endpoint: str, rate: float, p95: float) -> MetricsCollected:
    labels = {"platform": "shop", "endpoint": endpoint}
    return MetricsCollected(
        ts=at,
        source="Monitor",
        points=(
            MetricPoint(series="http_requests_per_s", ts=at, value=rate, labels=labels),
            MetricPoint(series="http_latency_p95_ms", ts=at, value=p95, labels=labels),
        ),
    )


async def test_endpoints_of_the_window_are_judged_and_their_requests_feed_calls_per_request() -> (
    None
):
    performance = agent([Round([], window()), Round([], window())])
    for minute in range(1, 6):
        at = START + timedelta(minutes=minute)
        await performance.handle(endpoint_points(at, "/search", 30.0, 350.0))  # 75 % of traffic
        await performance.handle(endpoint_points(at, "/report", 2.0, 2500.0))
        await performance.handle(endpoint_points(at, "/health", 8.0, 4.0))
    events = await performance.handle(tick(at=START + timedelta(seconds=300)))
    found = [(e.target, e.kind, e.evidence.get("endpoint")) for e in events]
    assert found == [
        ("shop", "slow_endpoint", "shop /report"),
        ("shop", "hot_endpoint", "shop /search"),
    ]
    # the platform's 40 requests/s over the 300 s window: the database's calls per request
    assert performance.analysers["main-db"].requests == [12_000]
    # the next window has no traffic collected: no request count, and the findings close
    assert await performance.handle(tick(at=START + timedelta(seconds=600))) == []
    assert performance.analysers["main-db"].requests[-1] is None
    assert [target for target, _ in performance.board.current()] == []


async def test_a_forecast_memory_breach_is_a_memory_leak_until_its_time() -> None:
    performance = agent([Round([], window()), Round([], window())])
    breach = BreachPredicted(
        ts=START, source="Predictive", series='host_memory_percent{host="web-1"}', limit=95.0,
        eta=START + timedelta(hours=3), probability=0.9, labels={"platform": "shop"},
    )  # fmt: skip
    await performance.handle(breach)
    other = breach.model_copy(update={"series": "http_requests_per_s"})
    await performance.handle(other)  # not a memory series
    [event] = await performance.handle(tick(at=START + timedelta(minutes=5)))
    assert (event.target, event.kind, event.evidence["hours_to_limit"]) == (
        "shop",
        "memory_leak",
        3.0,  # as forecast at the prediction
    )
    assert await performance.handle(tick(at=START + timedelta(hours=4))) == []
    assert performance.board.current() == []
