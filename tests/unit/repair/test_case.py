"""A repair case takes a diagnosis' aim, and a revision moves it only before any step ran."""

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


def test_a_revision_moves_the_aim_only_before_any_step_was_tried() -> None:
    case = RepairCase.of("i-1", "c-1", _diagnosis(None, "a.io", "a.io"), [RESTART])
    assert case.revise(_diagnosis("db", "a.io", "a.io"), [INDEX, RESTART])
    assert (case.target, [step.strategy for step in case.plan]) == (
        "db",
        ["add_index", "restart_service"],
    )
    case.tried.append("add_index")
    case.state = "verifying"
    assert case.revise(_diagnosis("cache", "a.io", "a.io"), [INDEX, RESET])
    assert case.target == "db"  # a step ran against db: the revision keeps the aim
    assert [step.strategy for step in case.plan] == ["reset_db_connections"]  # untried only
    case.state = "resolved"
    assert not case.revise(_diagnosis("other", "a.io", "a.io"), [RESTART])
    assert [step.strategy for step in case.plan] == ["reset_db_connections"]
