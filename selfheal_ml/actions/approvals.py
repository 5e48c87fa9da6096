"""Pending approvals: high-risk repairs wait here for a human, or for their timeout.

Each request gets an id (the audit log's id of its ``pending_approval`` row), a deadline
``requested_at + timeout_s``, and ends in exactly one state: ``approved``, ``denied`` or
``expired``. Resolving a request twice raises :class:`ApprovalNotPendingError`; an unknown id
raises :class:`ApprovalNotFoundError`. Time is whatever ``now`` the caller passes, so a
``SimClock`` drives expiry.

>>> from datetime import UTC, datetime, timedelta
>>> book = ApprovalBook(timeout_s=600)
>>> start = datetime(2026, 1, 5, tzinfo=UTC)
>>> request = RepairRequest("inc-1", "corr-1", "add_index", "leadsite.ai", risk="high")
>>> pending = book.add("a1", request, start)
>>> [p.approval_id for p in book.expire(start + timedelta(seconds=599))]
[]
>>> [p.approval_id for p in book.expire(start + timedelta(seconds=600))]
['a1']
>>> book.get("a1").state
'expired'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from selfheal_ml.actions.base import (
    ApprovalNotFoundError,
    ApprovalNotPendingError,
    RepairRequest,
)

ApprovalState = Literal["pending", "approved", "denied", "expired"]


@dataclass(frozen=True)
class PendingApproval:
    """One high-risk request and where it stands."""

    approval_id: str
    request: RepairRequest
    requested_at: datetime
    expires_at: datetime
    state: ApprovalState = "pending"
    resolved_by: str | None = None
    resolved_at: datetime | None = None


class ApprovalBook:
    """The requests awaiting approval, in memory, with their resolutions (the repair service
    keeps a durable copy and restores it after a restart)."""

    def __init__(self, timeout_s: float) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: expected a duration > 0 s, got {timeout_s!r}")
        self.timeout_s = timeout_s
        self._entries: dict[str, PendingApproval] = {}

    def add(self, approval_id: str, request: RepairRequest, now: datetime) -> PendingApproval:
        """Start waiting for a human's answer on ``request``."""
        entry = self.entry_for(approval_id, request, now)
        self._entries[approval_id] = entry
        return entry

    def entry_for(self, approval_id: str, request: RepairRequest, now: datetime) -> PendingApproval:
        """The entry :meth:`add` would make, without adding it (to store it durably first)."""
        return PendingApproval(approval_id, request, now, now + timedelta(seconds=self.timeout_s))

    def restore(self, entry: PendingApproval) -> None:
        """Take back an entry kept before a restart, in whatever state, deadline unchanged."""
        self._entries[entry.approval_id] = entry

    def get(self, approval_id: str) -> PendingApproval:
        """The entry under ``approval_id``, in whatever state."""
        try:
            return self._entries[approval_id]
        except KeyError:
            raise ApprovalNotFoundError(approval_id) from None

    def pending(self) -> list[PendingApproval]:
        """Requests still waiting, oldest first."""
        waiting = [entry for entry in self._entries.values() if entry.state == "pending"]
        return sorted(waiting, key=lambda entry: entry.requested_at)

    def approve(self, approval_id: str, by: str, now: datetime) -> PendingApproval:
        """Mark approved by ``by``; the request must be pending and not past its deadline."""
        return self._resolve(approval_id, "approved", by, now)

    def deny(self, approval_id: str, by: str, now: datetime) -> PendingApproval:
        """Mark denied by ``by``."""
        return self._resolve(approval_id, "denied", by, now)

    def expire(self, now: datetime) -> list[PendingApproval]:
        """Mark every request whose deadline is ``now`` or earlier expired; returns them."""
        expired = []
        for entry in self.pending():
            if entry.expires_at <= now:
                resolved = replace(entry, state="expired", resolved_at=now)
                self._entries[entry.approval_id] = resolved
                expired.append(resolved)
        return expired

    def _resolve(
        self, approval_id: str, state: ApprovalState, by: str, now: datetime
    ) -> PendingApproval:
        entry = self.get(approval_id)
        if entry.state != "pending":
            raise ApprovalNotPendingError(approval_id, entry.state)
        if entry.expires_at <= now:
            raise ApprovalNotPendingError(approval_id, "past its approval deadline")
        resolved = replace(entry, state=state, resolved_by=by, resolved_at=now)
        self._entries[approval_id] = resolved
        return resolved
