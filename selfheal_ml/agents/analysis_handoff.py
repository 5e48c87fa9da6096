"""Scenario 2's hand-off: the Performance agent's missing index becomes the repair's parameters.

The seed's order is Monitor -> Diagnostic -> Performance analyses the slow query -> Repair adds
the index -> Learning remembers. When a slow-query incident is diagnosed on a database the
Performance agent watches, the Repair agent holds the case (at most ``wait_s``) for that
analysis; the agent's ``missing_index`` finding published under the incident's correlation id
(``OptimizationFound``) then gives the ``add_index`` step its parameters (table, columns,
schema: they win over the Diagnostic investigator's) and moves that step to the front of the
plan (an index proven missing is the fix; a reindex would not help). Without a finding in
time, the case goes on with the diagnosis' own plan and parameters. A step already proposed
keeps its parameters.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from selfheal_ml.events import OptimizationFound
from selfheal_ml.lifecycle import Diagnosis, ParameterValue
from selfheal_ml.repair.case import RepairCase
from selfheal_ml.repair.strategy import PlannedStep

STRATEGY = "add_index"
DEFAULT_WAIT_S = 60.0
KEEP = 1024  # incidents remembered (held once, findings received)


def finding_params(event: OptimizationFound) -> dict[str, ParameterValue]:
    """The ``add_index`` parameters of a ``missing_index`` finding.

    >>> from datetime import UTC, datetime
    >>> event = OptimizationFound(ts=datetime(2026, 1, 5, tzinfo=UTC), source="Performance",
    ...     target="db", finding="", suggestion="", kind="missing_index",
    ...     table="sales.orders", columns=("day",))
    >>> finding_params(event)
    {'table': 'orders', 'columns': ['day'], 'schema': 'sales'}
    """
    schema, _, table = (event.table or "").rpartition(".")
    return {"table": table, "columns": list(event.columns or ()), "schema": schema or "public"}


@dataclass
class AnalysisHandOff:
    """Holds slow-query cases for the Performance analysis and applies its finding."""

    watched: frozenset[str]
    wait_s: float = DEFAULT_WAIT_S
    holding: dict[str, datetime] = field(default_factory=dict)  # incident id -> deadline
    waited: OrderedDict[str, None] = field(default_factory=OrderedDict)  # held once
    found: OrderedDict[str, dict[str, ParameterValue]] = field(default_factory=OrderedDict)

    def hold(self, case: RepairCase, diagnosis: Diagnosis, now: datetime) -> bool:
        """Whether to hold ``case`` now (a slow query on a watched database, nothing tried,
        no finding yet, not held before); applies a finding already received."""
        if self.apply(case):
            return False
        if diagnosis.root_cause != "slow_query" or diagnosis.component not in self.watched:
            return False
        if case.tried or case.incident_id in self.waited:
            return False
        self.waited[case.incident_id] = None
        while len(self.waited) > KEEP:
            self.waited.popitem(last=False)
        self.holding[case.incident_id] = now + timedelta(seconds=self.wait_s)
        return True

    def held(self, case: RepairCase, now: datetime) -> bool:
        """Whether ``case`` still waits for the analysis at ``now`` (released at the deadline)."""
        deadline = self.holding.get(case.incident_id)
        if deadline is None:
            return False
        if now < deadline:
            return True
        del self.holding[case.incident_id]
        return False

    def take(self, event: OptimizationFound, cases: Iterable[RepairCase]) -> RepairCase | None:
        """Record a ``missing_index`` finding of an incident; the held case it releases."""
        if event.kind != "missing_index" or not event.table or not event.columns:
            return None
        self.found[event.correlation_id] = finding_params(event)
        while len(self.found) > KEEP:
            self.found.popitem(last=False)
        for case in cases:
            if case.correlation_id == event.correlation_id and not case.finished:
                self.apply(case)
                if self.holding.pop(case.incident_id, None) is not None:
                    return case
        return None

    def apply(self, case: RepairCase) -> bool:
        """Give ``case`` the finding's parameters and put ``add_index`` first in its plan,
        unless that step was already proposed; whether a finding was applied."""
        params = self.found.get(case.correlation_id)
        if params is None or STRATEGY in case.tried:
            return False
        if case.step is not None and case.step.strategy == STRATEGY and case.state != "ready":
            return False
        case.params[STRATEGY] = dict(params)
        columns = params["columns"] if isinstance(params["columns"], list) else []
        reason = f"the Performance agent found the index missing: {params['table']}" + (
            f"({', '.join(columns)})"
        )
        case.plan = [
            PlannedStep(STRATEGY, "runbook", reason),
            *(step for step in case.plan if step.strategy != STRATEGY),
        ]
        return True
