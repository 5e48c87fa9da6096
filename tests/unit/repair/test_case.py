"""A repair case takes a diagnosis' aim; a revision moves it at once before any step ran, and
after one only for the steps not yet taken."""

from __future__ import annotations

from datetime import UTC, datetime

from selfheal_ml.lifecycle import Diagnosis
from selfheal_ml.repair.case import RepairCase
from selfheal_ml.repair.strategy import PlannedStep

T0 = datetime(2026, 1, 5, tzinfo=UTC)
RESTART = PlannedStep("restart_service", "runbook", "errors")
RESET = PlannedStep("reset_db_connections", "runbook", "pool")
INDEX = PlannedStep("add_index", "runbook", "slow query")


def _diagnosis(component: str | None, platform: str | None, *platforms: str) -> Diagnosis:
    return Diagnosis(
        revision=1, opened_at=T0, component=component, target_platform=platform,
        platforms=platforms, parameters={"add_index": {"table": "orders"}},
    )  # fmt: skip


def test_a_new_case_aims_at_the_component_else_the_first_platform() -> None:
    case = RepairCase.of("i-1", "c-1", _diagnosis("db", "a.io", "a.io"), [RESET])
    assert (case.target, case.platform, case.params) == (
        "db",
        "a.io",
        {"add_index": {"table": "orders"}},
    )
    bare = RepairCase.of("i-2", "c-2", _diagnosis(None, None, "b.io", "c.io"), [RESTART])
    assert (bare.target, bare.platform) == ("b.io", "b.io")
    assert RepairCase.of("i-3", "c-3", _diagnosis(None, None), []).target == "unknown"


def test_a_revision_moves_the_aim_at_once_before_any_step_was_tried() -> None:
    case = RepairCase.of("i-1", "c-1", _diagnosis(None, "a.io", "a.io"), [RESTART])
    assert case.revise(_diagnosis("db", "a.io", "a.io"), [INDEX, RESTART])
    assert (case.target, [step.strategy for step in case.plan]) == (
        "db",
        ["add_index", "restart_service"],
    )
    case.tried.append("add_index")
    case.state = "verifying"
    assert case.revise(_diagnosis("cache", "a.io", "a.io"), [INDEX, RESET])
    assert case.target == "db"  # the step under way ran against db and reports on it
    assert [step.strategy for step in case.plan] == ["reset_db_connections"]  # untried only
    case.state = "resolved"
    assert not case.revise(_diagnosis("other", "a.io", "a.io"), [RESTART])
    assert [step.strategy for step in case.plan] == ["reset_db_connections"]


def test_after_a_step_the_next_step_acts_on_the_component_a_revision_names() -> None:
    """Seed 7014: a pool exhaustion first read as videosite.io's crash; after the
    restart the revision named the database, and the pool reset must go there."""
    case = RepairCase.of("i-1", "c-1", _diagnosis("v.io", "v.io", "v.io", "a.io"), [RESTART])
    case.take_next_step()
    case.tried.append("restart_service")
    case.state = "verifying"
    assert case.revise(_diagnosis("postgres", "a.io", "v.io", "a.io"), [RESTART, RESET])
    assert (case.target, case.platform) == ("v.io", "v.io")  # the restart is judged on v.io
    case.state = "ready"
    assert case.take_next_step() == RESET
    assert (case.target, case.platform, case.next_aim) == ("postgres", "a.io", None)


def test_a_revision_naming_the_same_component_or_none_keeps_the_aim() -> None:
    case = RepairCase.of("i-1", "c-1", _diagnosis("db", "a.io", "a.io"), [RESET, INDEX])
    case.take_next_step()
    case.tried.append("reset_db_connections")
    assert case.revise(_diagnosis("cache", "b.io", "a.io"), [INDEX])
    assert case.next_aim is not None and case.next_aim.target == "cache"
    assert case.revise(_diagnosis("db", "b.io", "a.io"), [INDEX])  # back to db
    assert case.revise(_diagnosis(None, None), [INDEX])
    assert case.next_aim is None
    assert case.take_next_step() == INDEX
    assert (case.target, case.platform) == ("db", "a.io")
