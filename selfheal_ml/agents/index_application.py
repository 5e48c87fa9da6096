"""A missing index, proposed through the safety guard and verified by its query's mean time.

The Performance agent hands each new ``missing_index`` finding to :class:`IndexApplication`,
which proposes ``pg_create_index_concurrently`` to the repair service: the guard rates it high
risk, so it waits for a human's approval (a configured policy may allow it). Once it has been
executed, the next rounds compare the finding's query (its fingerprint) mean time with the
mean before: at most ``1 - improvement`` of it is ``worked``, anything else ``did_not_work``,
recorded on the attempt (which feeds the guard's circuit breaker). Dropping an index is never
proposed: unused and duplicate indexes stay recommendations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from selfheal_ml.actions.base import RepairRequest
from selfheal_ml.events import new_id
from selfheal_ml.performance import Finding, StatementStats

log = logging.getLogger("selfheal_ml.agents.performance")

ACTION = "pg_create_index_concurrently"


@dataclass
class _Proposal:
    target: str
    fingerprint: str
    mean_before_ms: float
    approval_id: str | None
    attempt_id: str | None


def index_params(finding: Finding) -> dict[str, Any]:
    """The executor's parameters (``table``, ``columns``, ``schema``) of a missing index.

    >>> index_params(Finding(kind="missing_index", table="sales.orders", columns=("day",)))
    {'table': 'orders', 'columns': ['day'], 'schema': 'sales'}
    """
    schema, _, table = (finding.table or "").rpartition(".")
    return {"table": table, "columns": list(finding.columns or ()), "schema": schema or None}


class IndexApplication:
    """Proposes missing indexes to ``service`` and verifies the executed ones."""

    def __init__(self, service: Any, improvement: float = 0.5) -> None:
        self.service = service
        self.improvement = improvement
        self.proposals: dict[tuple[str, str], _Proposal] = {}

    async def propose(self, target: str, finding: Finding) -> None:
        """Send a ``missing_index`` finding through the guard (once per target and query)."""
        if finding.kind != "missing_index" or finding.fingerprint is None:
            return
        if (target, finding.fingerprint) in self.proposals:
            return
        request = RepairRequest(
            incident_id=f"optimization:{target}:{finding.fingerprint}",
            correlation_id=new_id(),
            action=ACTION,
            target=target,
            risk="high",
            params=index_params(finding),
        )
        attempt = await self.service.propose(request)
        log.info("index on %s proposed: %s (%s)", finding.table, attempt.decision, attempt.reason)
        if attempt.decision not in ("executed", "pending_approval"):
            return
        executed = attempt.attempt_id if attempt.executed else None
        self.proposals[(target, finding.fingerprint)] = _Proposal(
            target, finding.fingerprint, finding.mean_ms or 0.0, attempt.approval_id, executed
        )

    async def verify(self, target: str, statements: tuple[StatementStats, ...]) -> None:
        """Record the outcome of executed proposals whose query ran in this round's window."""
        means = {statement.fingerprint: statement.mean_ms for statement in statements}
        for key, proposal in list(self.proposals.items()):
            if proposal.target != target:
                continue
            if proposal.attempt_id is None and proposal.approval_id is not None:
                answer = self.service.answer(proposal.approval_id)
                if answer is None:
                    continue  # still waiting for a human
                if not answer.executed:
                    del self.proposals[key]  # denied, expired or refused
                    continue
                proposal.attempt_id = answer.attempt_id
            mean_after = means.get(proposal.fingerprint)
            if proposal.attempt_id is None or mean_after is None:
                continue
            worked = mean_after <= (1.0 - self.improvement) * proposal.mean_before_ms
            await self.service.record_outcome(proposal.attempt_id, worked)
            log.info(
                "index for %s: mean %.1f ms -> %.1f ms, %s",
                proposal.fingerprint,
                proposal.mean_before_ms,
                mean_after,
                "worked" if worked else "did not work",
            )
            del self.proposals[key]
