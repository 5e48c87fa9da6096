"""The approval book: one resolution per request, deadlines from the caller's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfheal_ml.actions import (
    ApprovalBook,
    ApprovalNotFoundError,
    ApprovalNotPendingError,
    RepairRequest,
)
from selfheal_ml.clock import SimClock

HIGH = RepairRequest("inc-1", "corr-1", "add_index", "p1", risk="high")


def test_pending_lists_oldest_first_and_resolutions_are_final(sim_clock: SimClock) -> None:
    book = ApprovalBook(timeout_s=300)
    book.add("b", HIGH, sim_clock.now() + timedelta(seconds=5))
    book.add("a", HIGH, sim_clock.now())
    assert [entry.approval_id for entry in book.pending()] == ["a", "b"]
    approved = book.approve("a", "alice", sim_clock.now())
    assert (approved.state, approved.resolved_by) == ("approved", "alice")
    with pytest.raises(ApprovalNotPendingError) as caught:
        book.deny("a", "bob", sim_clock.now())
    assert caught.value.state == "approved"
    assert [entry.approval_id for entry in book.pending()] == ["b"]


def test_unknown_id_and_past_deadline(sim_clock: SimClock) -> None:
    book = ApprovalBook(timeout_s=60)
    with pytest.raises(ApprovalNotFoundError) as caught:
        book.approve("nope", "alice", sim_clock.now())
    assert caught.value.approval_id == "nope"
    book.add("a", HIGH, sim_clock.now())
    with pytest.raises(ApprovalNotPendingError):
        book.approve("a", "alice", sim_clock.now() + timedelta(seconds=60))


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        ApprovalBook(timeout_s=0)
