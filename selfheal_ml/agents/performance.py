"""The Performance agent: database, cache and endpoint findings, on the optimisation interval.

On each ``optimize`` tick it runs one round of every configured analyser (one per PostgreSQL
target, :class:`~selfheal_ml.collectors.postgres_analysis.PostgresAnalyser`: one reading of
the statistics views, the window running from the previous round, a short
``pg_stat_activity`` sampling burst only while a problem is open on the database or a platform
using it (:class:`~selfheal_ml.agents.open_problems.OpenProblems`: latency and slow-query
alerts and anomalies, slow-query diagnoses) or the analyser has a pending candidate; one per
Redis target, :class:`~selfheal_ml.collectors.redis_analysis.RedisAnalyser`: ``INFO``), judges
the window's endpoints from the Monitor's per-endpoint series and keeps the memory leaks the
Predictive agent's forecasts point at (:class:`~selfheal_ml.agents.service_findings.
ServiceFindings`; a platform's request count also gives its database's calls per request, for
N+1 loops), puts the findings on the board the API reads (``GET /v1/optimizations``), and
publishes the *new* ones as ``OptimizationFound`` events on ``system.optimization``. A missing
index may be proposed through the safety guard and verified afterwards
(:mod:`.index_application`); everything else stays a recommendation.

Scenario 2: when the Diagnostic agent diagnoses a ``slow_query`` on a watched database, the
agent watches that database for ``incident_watch_s`` at once and publishes its query and index
findings under the incident's correlation id, so the incident's story says which query and
which missing index; the Repair agent waits for that analysis and takes the missing index
(table, columns) as its ``add_index`` parameters (:mod:`.analysis_handoff`).

Ports (``AgentContext.extras``): ``performance_analysers`` (target name -> analyser),
``optimization_board`` (:class:`~selfheal_ml.performance.FindingBoard`), ``repair_service``,
``performance`` (``{"sample_s": ..., "propose_indexes": ..., "problem_hold_s": ...}``: the
sampling burst, how long an anomaly or diagnosis keeps a problem open; missing indexes are proposed
only when ``propose_indexes`` is on and a repair service is there; off by default, since the
Diagnostic -> Repair path proposes the index of a slow-query incident).
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.index_application import IndexApplication
from selfheal_ml.agents.open_problems import DEFAULT_HOLD_S, OpenProblems
from selfheal_ml.agents.optimization_events import optimization_event
from selfheal_ml.agents.service_findings import ServiceFindings
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    Event,
    IncidentDiagnosed,
    MetricsCollected,
    Tick,
)
from selfheal_ml.performance import Finding, FindingBoard

DEFAULT_SAMPLE_S = 2.0
DEFAULT_INCIDENT_WATCH_S = 3.0
INCIDENT_KINDS = ("missing_index", "slow_query", "n_plus_one")


class PerformanceAgent(Agent):
    """Runs the analysers on ``optimize`` ticks and publishes new findings (see module doc)."""

    name: ClassVar[str] = "Performance"
    subscriptions: ClassVar[tuple[Selector, ...]] = (
        Tick, IncidentDiagnosed, AlertRaised, AnomalyDetected, MetricsCollected, BreachPredicted,
    )  # fmt: skip

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.analysers: dict[str, Any] = dict(extras.get("performance_analysers") or {})
        self.board: FindingBoard = extras.get("optimization_board") or FindingBoard()
        options = extras.get("performance") or {}
        self.sample_s = float(options.get("sample_s", DEFAULT_SAMPLE_S))
        self.incident_watch_s = float(options.get("incident_watch_s", DEFAULT_INCIDENT_WATCH_S))
        self.analysed: deque[str] = deque(maxlen=256)  # incidents already analysed
        self.problems = OpenProblems(float(options.get("problem_hold_s", DEFAULT_HOLD_S)))
        self.service_findings = ServiceFindings(context.clock.now())
        service = extras.get("repair_service")
        proposing = bool(options.get("propose_indexes", False)) and service is not None
        self.indexes = IndexApplication(service) if proposing else None
        self.rounds = 0

    async def handle(self, event: Event) -> list[Event]:
        self.problems.observe(event)
        self.service_findings.observe(event)
        if isinstance(event, IncidentDiagnosed):
            return await self._analyse_incident(event)
        if not isinstance(event, Tick) or event.kind != "optimize":
            return []
        self.rounds += 1
        found: dict[str, list[Finding]] = {}
        for target, analyser in self.analysers.items():
            platform = getattr(analyser, "platform", None)
            problem_open = self.problems.is_open((target, *([platform] if platform else [])),
                                                 event.ts)  # fmt: skip
            requests = self.service_findings.requests(platform, event.ts)
            result = await analyser.try_round(self.sample_s, problem_open, requests)
            if result is None:
                continue  # unreachable: the board keeps the last findings
            found[target] = list(result.findings)
            if self.indexes is not None:
                await self.indexes.verify(target, result.snapshot.statements)
            self.log.info(
                "%s: %d findings, %d queries, %d samples%s", target, len(result.findings),
                result.queries, result.samples, " (problem open)" if problem_open else "",
            )  # fmt: skip
        for place, findings in self.service_findings.close_window(event.ts).items():
            found.setdefault(place, []).extend(findings)
        return await self._publish(found)

    async def _publish(self, found: dict[str, list[Finding]]) -> list[Event]:
        """Put each target's findings on the board; propose and announce the new ones."""
        published: list[Event] = []
        now = self.context.clock.now()
        for target, findings in found.items():
            new = self.board.replace(target, findings)
            if self.indexes is not None:
                for finding in new:
                    await self.indexes.propose(target, finding)
            published.extend(optimization_event(target, finding, now) for finding in new)
        return published

    async def _analyse_incident(self, event: IncidentDiagnosed) -> list[Event]:
        """Watch the database of a slow-query incident once; its query findings join the
        incident's story."""
        diagnosis = event.diagnosis
        analyser = self.analysers.get(diagnosis.component or "")
        if diagnosis.root_cause != "slow_query" or analyser is None:
            return []
        if event.incident_id in self.analysed:
            return []  # a later revision of an incident already analysed
        self.analysed.append(event.incident_id)
        result = await analyser.try_watch(self.incident_watch_s)
        if result is None:
            return []
        now = self.context.clock.now()
        target = str(diagnosis.component)
        return [
            optimization_event(target, finding, now, event.correlation_id)
            for finding in result.findings
            if finding.kind in INCIDENT_KINDS
        ]
