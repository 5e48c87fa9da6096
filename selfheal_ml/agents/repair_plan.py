"""The Repair agent's plan for a diagnosis, and the executor action behind each strategy.

:class:`RepairPlanner` reads the incident's learned playbook (DuckDB), the classifier's advice
and the ranked candidates carried by the typed diagnosis, and asks
:func:`selfheal_ml.repair.strategy.plan_repair` for the ordered plan, telling it which
strategies need a person's approval (their executor action's risk tier in the guard), so the
first step is the least risky one that fixes the diagnosed cause. :meth:`RepairPlanner.plan`
reads DuckDB: call it off the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from selfheal_ml.actions import RepairService
from selfheal_ml.lifecycle import Diagnosis
from selfheal_ml.repair.playbook import PlaybookEntry
from selfheal_ml.repair.recommend import from_advice
from selfheal_ml.repair.strategy import PlannedStep, PlanPolicy, RunbookCandidate, plan_repair
from selfheal_ml.storage.incidents import IncidentStore

#: Real executors' actions for strategies that have no executor of the same name.
STRATEGY_ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        "reset_db_connections": "pg_terminate_idle",
        "add_index": "pg_create_index_concurrently",
        "reindex": "pg_reindex",
        "clear_cache": "redis_memory_purge",
        "restart_service": "restart_process",
    }
)


class RepairPlanner:
    """Plans repairs for diagnoses and names the action of each strategy."""

    def __init__(
        self,
        service: RepairService | None,
        incidents: IncidentStore | None,
        policy: PlanPolicy,
        strategy_actions: Mapping[str, str] | None = None,
    ) -> None:
        self.service, self.incidents = service, incidents
        self.policy, self.strategy_actions = policy, strategy_actions

    def plan(self, diagnosis: Diagnosis) -> list[PlannedStep]:
        """The ordered plan: proven playbook, confident classifier, runbook; least risk."""
        playbook: list[PlaybookEntry] = []
        if self.incidents is not None and diagnosis.signature:
            playbook = self.incidents.playbook(diagnosis.signature)
        candidates = runbook_candidates(diagnosis)
        return plan_repair(
            playbook, from_advice(diagnosis.advice), candidates, diagnosis.confidence,
            self.policy_with_risks(),
        )  # fmt: skip

    def policy_with_risks(self) -> PlanPolicy:
        """The plan policy, knowing which strategies need approval (their action's tier)."""
        if self.service is None or self.policy.high_risk:
            return self.policy
        tiers = self.service.guard.policy.risk_tiers
        risky = frozenset(name for name in tiers if tiers.get(self.action_for(name)) == "high")
        return replace(self.policy, high_risk=risky)

    def action_for(self, strategy: str) -> str:
        """The executor action that carries ``strategy`` out here."""
        if self.strategy_actions is not None and strategy in self.strategy_actions:
            return self.strategy_actions[strategy]
        served = self.service is not None and strategy in self.service.executors
        if not served and strategy in STRATEGY_ACTIONS:
            return STRATEGY_ACTIONS[strategy]
        return strategy


def runbook_candidates(diagnosis: Diagnosis) -> list[RunbookCandidate]:
    """The candidates of the plan: the top cause's known fix, then its other fixes, then the
    other candidates' fixes (each shown as ``cause@component``)."""
    if not diagnosis.candidates:
        return []
    top, *others = diagnosis.candidates
    first = diagnosis.known_fix or top.strategy
    fixes = [first, *(fix for fix in (top.strategy, *top.alternatives) if fix != first)]
    return [RunbookCandidate(top.label, fix, top.score, top.component) for fix in fixes] + [
        RunbookCandidate(c.label, c.strategy, c.score, c.component) for c in others
    ]
