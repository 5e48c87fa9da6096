"""One audited decision on a repair request: :class:`Attempt`, what the repair service returns.

It lives apart from the service so that the durable journal can store and rebuild it.
"""

from __future__ import annotations

from dataclasses import dataclass

from selfheal_ml.actions.base import ExecutionResult, RepairRequest
from selfheal_ml.actions.guard import Refusal


@dataclass(frozen=True)
class Attempt:
    """One audited decision on a request; ``result`` is set when an executor ran."""

    attempt_id: str
    request: RepairRequest
    decision: str
    reason: str
    escalated: bool = False
    result: ExecutionResult | None = None
    approval_id: str | None = None
    refusal: Refusal | None = None

    @property
    def executed(self) -> bool:
        """Whether an executor ran (successfully or not)."""
        return self.result is not None
