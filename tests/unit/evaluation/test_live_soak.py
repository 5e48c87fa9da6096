"""A live run's JSON answers turned into the chaos benchmark's inputs and scored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from selfheal_ml.evaluation.live_soak import (
    diagnosed_incidents,
    escalations,
    executed_repairs,
    fault_truths,
    observations,
    score_live,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
DEPENDENCIES = {"db_unreachable": "postgres"}
ALL = ["a", "b", "c", "d", "e"]


def _iso(second: float) -> str:
    return (T0 + timedelta(seconds=second)).isoformat()


def _fault(fault_id: str, kind: str, platform: str, platforms: list[str], resolved: float | None,
           by: str | None, fixing: list[str]) -> dict[str, Any]:  # fmt: skip
    return {
        "fault_id": fault_id, "kind": kind, "platform": platform, "platforms": platforms,
        "injected_at": _iso(0), "resolved_at": None if resolved is None else _iso(resolved),
        "resolved_by": by, "fixing_actions": fixing, "active": resolved is None,
    }  # fmt: skip


CRASH = _fault("f1", "service_crash", "z", ["z"], 95.0, "restart_service", ["restart_service"])
LOST_DB = _fault("f2", "db_unreachable", "a", ALL, None, None, ["reset_db_connections"])
INCIDENTS = [
    {"incident_id": "i1", "opened_at": _iso(40), "closed_at": _iso(130), "platforms": ["z"],
     "status": "resolved", "root_cause": "service_crash@z", "attempts": []},
    {"incident_id": "i2", "opened_at": _iso(60), "closed_at": _iso(200), "platforms": ALL,
     "status": "escalated", "root_cause": "db_unreachable@postgres",
     "diagnosis": {"root_cause": "db_unreachable", "component": "postgres", "platforms": ALL},
     "attempts": []},
]  # fmt: skip
AUDIT = [
    # the service's clock is 2 s behind the simulator's
    {"ts": _iso(93), "incident_id": "i1", "action": "restart_service", "target": "z",
     "decision": "executed", "reason": "low risk; within limits"},
    {"ts": _iso(70), "incident_id": "i2", "action": "restore_from_backup", "target": "postgres",
     "decision": "pending_approval", "reason": "high risk"},
    {"ts": _iso(190), "incident_id": "i2", "action": "restore_from_backup", "target": "postgres",
     "decision": "expired", "reason": "approval expired after 60 s"},
]  # fmt: skip
ALERTS = [
    {"labels": {"alertname": "ServiceDown", "platform": "z"}, "starts_at": _iso(4)},
    {"labels": {"alertname": "IncidentDiagnosed", "incident_id": "i1"}, "starts_at": _iso(40)},
]


def test_truths_name_the_dependency_or_the_platform() -> None:
    truths = fault_truths([LOST_DB, CRASH], DEPENDENCIES)
    assert [(t.fault.fault_id, t.root_component) for t in truths] == [("f2", "postgres"),
                                                                      ("f1", "z")]  # fmt: skip
    assert truths[1].fault.resolved_at == T0 + timedelta(seconds=95)


def test_the_service_s_own_notices_are_not_detections() -> None:
    assert [o.alertname for o in observations(ALERTS)] == ["ServiceDown"]


def test_incidents_read_the_typed_diagnosis_or_the_flat_fields() -> None:
    found = diagnosed_incidents(INCIDENTS)
    assert [(i.top_cause, i.components) for i in found] == [
        ("service_crash@z", ("z",)), ("db_unreachable@postgres", ("postgres",))]  # fmt: skip
    assert found[1].platforms == tuple(ALL)


def test_an_executed_action_that_ended_a_fault_takes_the_simulator_s_time() -> None:
    truths = fault_truths([CRASH, LOST_DB], DEPENDENCIES)
    (repair,) = executed_repairs(AUDIT, truths, INCIDENTS)
    assert repair.fixed and repair.ts == T0 + timedelta(seconds=95)
    assert (repair.platform, repair.target_had_fault, repair.approved_by_human) == (
        "z", True, False)  # fmt: skip


def test_an_action_too_far_from_the_resolution_did_not_end_it() -> None:
    late = [{**AUDIT[0], "ts": _iso(300)}]
    (repair,) = executed_repairs(late, fault_truths([CRASH], {}), INCIDENTS)
    assert not repair.fixed and not repair.target_had_fault  # the crash ended at 95 s


def test_an_approved_action_is_a_human_s() -> None:
    approved = [{**AUDIT[0], "reason": "approved by alice; high risk, approved"}]
    (repair,) = executed_repairs(approved, fault_truths([CRASH], {}), INCIDENTS)
    assert repair.approved_by_human


def test_escalations_carry_the_last_refusal() -> None:
    (escalation,) = escalations(INCIDENTS, AUDIT)
    assert (escalation.incident_id, escalation.reason) == ("i2", "approval expired after 60 s")
    assert escalation.ts == T0 + timedelta(seconds=200)


def test_a_live_run_scores_with_the_benchmark_s_keys() -> None:
    report = score_live(
        [CRASH, LOST_DB], INCIDENTS, ALERTS, AUDIT,
        dependency_of=DEPENDENCIES, high_risk_actions={"restore_from_backup"},
        platform_count=5, run_start=T0, run_end=T0 + timedelta(seconds=400),
    )  # fmt: skip
    assert (report.faults_injected, report.incidents, report.escalations) == (2, 2, 1)
    assert report.root_cause_accuracy == 1.0
    assert report.resolution_rate == 0.5 and report.auto_resolution_rate == 0.5
    assert report.auto_resolution_rate_low_risk == 0.5  # both fixes are low risk here
    assert report.mttr_median_s == 95.0 and report.repairs_on_healthy == 0
