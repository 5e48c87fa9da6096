"""Scoring a fault-injection run against hand-built ground truth.

One small run (``_run``) exercises every figure at once; the other tests isolate one rule each:
the matching window and its grace, involvement, false alarms, root-cause and first-repair
correctness, what counts as resolved by the loop (and without a human).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfheal_ml.evaluation.chaos import (
    ChaosReport,
    DiagnosedIncident,
    Escalation,
    ExecutedRepair,
    FaultTruth,
    match_incidents,
    score_chaos,
)
from selfheal_ml.evaluation.detection import Fault, Observation, match_detections

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _at(second: float) -> datetime:
    return T0 + timedelta(seconds=second)


def _truth(
    fault_id: str,
    kind: str,
    platforms: tuple[str, ...],
    injected_s: float,
    resolved_s: float | None,
    resolved_by: str | None,
    fixing: tuple[str, ...],
    root: str,
    platform: str | None = None,
) -> FaultTruth:
    fault = Fault(
        fault_id,
        kind,
        platform,
        platforms,
        _at(injected_s),
        None if resolved_s is None else _at(resolved_s),
        resolved_by,
    )
    return FaultTruth(fault, fixing, root)


def _crash(
    injected_s: float = 0.0,
    resolved_s: float | None = 300.0,
    resolved_by: str | None = "restart_service",
    platform: str = "a",
    fault_id: str = "f1",
) -> FaultTruth:
    return _truth(
        fault_id,
        "service_crash",
        (platform,),
        injected_s,
        resolved_s,
        resolved_by,
        ("restart_service",),
        platform,
        platform=platform,
    )


def _incident(
    incident_id: str,
    second: float,
    platforms: tuple[str, ...] = ("a",),
    components: tuple[str, ...] = (),
    top_cause: str | None = "service_crash@a",
) -> DiagnosedIncident:
    return DiagnosedIncident(incident_id, _at(second), platforms, components, top_cause)


def _repair(
    second: float,
    incident_id: str | None,
    action: str = "restart_service",
    platform: str = "a",
    target_had_fault: bool = True,
    fixed: bool = False,
    approved_by_human: bool = False,
) -> ExecutedRepair:
    return ExecutedRepair(
        _at(second), incident_id, action, platform, target_had_fault, fixed, approved_by_human
    )


def _score(
    truths: list[FaultTruth],
    incidents: list[DiagnosedIncident],
    repairs: list[ExecutedRepair] | None = None,
    escalations: list[Escalation] | None = None,
    days: float = 1.0,
    platform_count: int = 5,
    grace_s: float = 600.0,
) -> ChaosReport:
    detection = match_detections([truth.fault for truth in truths], [])
    return score_chaos(
        truths,
        detection,
        incidents,
        repairs or [],
        escalations or [],
        days=days,
        platform_count=platform_count,
        grace_s=grace_s,
    )


# --- one run with every figure --------------------------------------------------------------


def _run() -> ChaosReport:
    crash = _crash()  # a, 0 -> 300 s, restarted by the loop without a human
    outage = _truth(
        "f2",
        "db_unreachable",
        ("a", "b", "c"),
        3600,
        4500,
        "restore_from_backup",
        ("restore_from_backup",),
        "postgres",
    )  # the loop restores it at 4500 s, with a human's approval
    disk = _truth(
        "f3", "disk_filling", ("d",), 7200, 10800, "expired", ("clear_temp_files",), "d", "d"
    )  # nobody fixed it: it expired
    truths = [crash, outage, disk]
    alerts = [
        Observation(_at(30), "ServerErrors", {"platform": "a"}),
        Observation(_at(3660), "DatabaseConnectionFailure", {"dependency": "postgres"}),
    ]
    detection = match_detections([truth.fault for truth in truths], alerts)
    incidents = [
        _incident("i1", 60),
        _incident("i2", 3720, ("a", "b"), ("postgres",), "service_crash@a"),  # wrong cause
        _incident("i3", 7260, ("d",), ("d",), "disk_filling@d"),
        _incident("i4", 20000, ("e",), ("e",), "memory_leak@e"),  # no fault: a false alarm
    ]
    repairs = [
        _repair(300, "i1", fixed=True),
        _repair(3800, "i2"),  # the first action for the outage: a restart, wrong
        _repair(4500, "i2", "restore_from_backup", fixed=True, approved_by_human=True),
        _repair(20100, "i4", platform="e", target_had_fault=False),
    ]
    escalations = [
        Escalation(_at(3900), "i2", "circuit breaker opened on a: repairs stopped"),
        Escalation(_at(7300), "i3", "diagnosis not confident enough"),
    ]
    return score_chaos(
        truths, detection, incidents, repairs, escalations, days=1.0, platform_count=5
    )


def test_run_counts() -> None:
    report = _run()
    assert (report.faults_injected, report.faults_detected, report.incidents) == (3, 2, 4)
    assert (report.repairs_executed, report.repairs_on_healthy, report.approvals) == (4, 1, 1)
    assert (report.escalations, report.loops_stopped) == (2, 1)


def test_run_detection_figures_come_from_the_detection_report() -> None:
    report = _run()
    assert report.detection_rate == pytest.approx(2 / 3)
    # detected after 30 s and 60 s: median 45, p95 30 * 0.05 + 60 * 0.95 = 58.5
    assert (report.mttd_median_s, report.mttd_p95_s) == (45.0, 58.5)


def test_run_diagnosis_and_repair_accuracy() -> None:
    report = _run()
    assert report.root_cause_accuracy == pytest.approx(2 / 3)  # crash and disk right
    assert report.first_repair_accuracy == pytest.approx(1 / 3)  # only the crash


def test_run_by_kind_adds_up_to_the_headline() -> None:
    report = _run()
    rows = report.by_kind
    assert sum(row["faults"] for row in rows.values()) == report.faults_injected
    for column, headline in (
        ("root_cause", report.root_cause_accuracy),
        ("first_repair", report.first_repair_accuracy),
        ("resolved", report.resolution_rate),
        ("auto", report.auto_resolution_rate),
    ):
        share = sum(row[column] * row["faults"] for row in rows.values()) / report.faults_injected
        assert share == pytest.approx(headline, abs=2e-3), column


def test_run_resolution() -> None:
    report = _run()
    assert report.resolution_rate == pytest.approx(2 / 3)  # crash and outage, not the expiry
    assert report.auto_resolution_rate == pytest.approx(1 / 3)  # the outage needed a human
    # repair times 300 s and 900 s: median 600, p95 300 * 0.05 + 900 * 0.95 = 870
    assert (report.mttr_median_s, report.mttr_p95_s) == (600.0, 870.0)
    # without a human: the crash only (300 s)
    assert (report.mttr_auto_median_s, report.mttr_auto_p95_s) == (300.0, 300.0)


def test_run_false_alarms() -> None:
    report = _run()
    assert report.false_alarms == 1
    assert report.false_alarms_per_platform_day == 0.2  # 1 over 5 platforms * 1 day


def test_report_as_dict() -> None:
    report = _run()
    as_dict = report.as_dict()
    assert as_dict["false_alarms"] == 1
    assert set(as_dict) == set(ChaosReport.__dataclass_fields__)


# --- matching ---------------------------------------------------------------------------


def test_incident_within_the_grace_after_resolution_matches() -> None:
    truth = _crash(resolved_s=300)
    matched = match_incidents([truth], [_incident("i", 900)], grace_s=600)
    assert [incident.incident_id for incident in matched["f1"]] == ["i"]


def test_incident_after_the_grace_is_a_false_alarm() -> None:
    report = _score([_crash(resolved_s=300)], [_incident("i", 901)], grace_s=600)
    assert report.false_alarms == 1
    assert report.root_cause_accuracy == 0.0


def test_incident_before_the_injection_is_a_false_alarm() -> None:
    report = _score([_crash(injected_s=100)], [_incident("i", 99)])
    assert report.false_alarms == 1


def test_unresolved_fault_without_a_run_end_stays_open() -> None:
    truth = _crash(resolved_s=None, resolved_by=None)
    assert len(match_incidents([truth], [_incident("i", 10 * 86400)])["f1"]) == 1


def test_unresolved_fault_window_ends_at_the_run_end_plus_grace() -> None:
    truth = _crash(resolved_s=None, resolved_by=None)
    incidents = [_incident("inside", 1600), _incident("outside", 1601)]
    matched = match_incidents([truth], incidents, grace_s=600, run_end=_at(1000))
    assert [incident.incident_id for incident in matched["f1"]] == ["inside"]


def test_incident_on_the_root_component_only_matches() -> None:
    outage = _truth(
        "f2", "db_unreachable", ("a",), 0, 600, "x", ("restore_from_backup",), "postgres"
    )
    incident = _incident("i", 30, platforms=(), components=("postgres",))
    assert len(match_incidents([outage], [incident])["f2"]) == 1


def test_incident_on_an_unaffected_platform_is_a_false_alarm() -> None:
    report = _score([_crash(platform="a")], [_incident("i", 30, ("b",), ("b",))])
    assert report.false_alarms == 1


def test_incident_matches_the_most_recently_injected_fault() -> None:
    older = _crash(injected_s=0, resolved_s=3600, fault_id="old")
    newer = _crash(injected_s=100, resolved_s=3600, fault_id="new")
    matched = match_incidents([older, newer], [_incident("i", 200)])
    assert (matched["old"], [incident.incident_id for incident in matched["new"]]) == ([], ["i"])


def test_matches_are_earliest_first() -> None:
    incidents = [_incident("late", 200), _incident("early", 100)]
    matched = match_incidents([_crash()], incidents)
    assert [incident.incident_id for incident in matched["f1"]] == ["early", "late"]


# --- root cause and first repair ------------------------------------------------------------


def test_root_cause_counts_the_first_matching_incident_only() -> None:
    incidents = [
        _incident("first", 100, top_cause="bad_config_push@a"),
        _incident("second", 120, top_cause="service_crash@a"),
    ]
    assert _score([_crash()], incidents).root_cause_accuracy == 0.0


def test_root_cause_needs_the_root_component() -> None:
    report = _score([_crash()], [_incident("i", 100, top_cause="service_crash@b")])
    assert report.root_cause_accuracy == 0.0


def test_root_cause_without_a_candidate_is_wrong() -> None:
    report = _score([_crash()], [_incident("i", 100, top_cause=None)])
    assert report.root_cause_accuracy == 0.0
    assert report.false_alarms == 0


def test_first_repair_is_the_earliest_over_the_matching_incidents() -> None:
    incidents = [_incident("i1", 60), _incident("i2", 70)]
    repairs = [
        _repair(200, "i1", "restart_service"),
        _repair(150, "i2", "rollback_config"),  # earlier, and wrong
    ]
    assert _score([_crash()], incidents, repairs).first_repair_accuracy == 0.0


def test_later_right_action_does_not_fix_a_wrong_first_one() -> None:
    repairs = [_repair(100, "i", "rollback_config"), _repair(200, "i", "restart_service")]
    assert _score([_crash()], [_incident("i", 60)], repairs).first_repair_accuracy == 0.0


def test_right_first_repair_counts_whatever_the_order_given() -> None:
    repairs = [_repair(200, "i", "rollback_config"), _repair(100, "i", "restart_service")]
    assert _score([_crash()], [_incident("i", 60)], repairs).first_repair_accuracy == 1.0


def test_repair_without_an_incident_is_not_a_first_repair() -> None:
    repairs = [_repair(100, None, "rollback_config"), _repair(200, "i", "restart_service")]
    report = _score([_crash()], [_incident("i", 60)], repairs)
    assert report.first_repair_accuracy == 1.0
    assert report.repairs_executed == 2


def test_missed_fault_counts_against_every_rate() -> None:
    report = _score([_crash(), _crash(fault_id="f2", platform="b")], [_incident("i", 60)])
    assert report.root_cause_accuracy == 0.5
    assert report.false_alarms == 0


# --- resolution --------------------------------------------------------------------------


def test_fixing_repair_resolves_without_a_human() -> None:
    report = _score([_crash()], [_incident("i", 60)], [_repair(300, "i", fixed=True)])
    assert (report.resolution_rate, report.auto_resolution_rate) == (1.0, 1.0)
    assert report.mttr_median_s == report.mttr_p95_s == 300.0
    assert report.approvals == 0


def test_approved_repair_resolves_but_not_automatically() -> None:
    repairs = [_repair(300, "i", fixed=True, approved_by_human=True)]
    report = _score([_crash()], [_incident("i", 60)], repairs)
    assert (report.resolution_rate, report.auto_resolution_rate) == (1.0, 0.0)
    assert report.approvals == 1
    assert report.mttr_median_s == 300.0  # the wait for the approval is part of the outage


@pytest.mark.parametrize(
    "repair",
    [
        _repair(300, "i", fixed=False),  # the action did not end the fault
        _repair(299, "i", fixed=True),  # not the action that ended it
        _repair(300, "i", "rollback_config", fixed=True),  # another action
        _repair(300, "i", platform="b", fixed=True),  # on another platform
    ],
)
def test_only_the_action_that_ended_the_fault_resolves_it(repair: ExecutedRepair) -> None:
    report = _score([_crash()], [_incident("i", 60)], [repair])
    assert (report.resolution_rate, report.auto_resolution_rate) == (0.0, 0.0)
    assert report.mttr_median_s is None


def test_expired_fault_is_not_resolved_by_the_loop() -> None:
    truth = _crash(resolved_by="expired")
    report = _score([truth], [_incident("i", 60)], [_repair(300, "i", fixed=True)])
    assert report.resolution_rate == 0.0


def test_ending_action_that_is_not_a_fixing_action_does_not_count() -> None:
    truth = _crash(resolved_by="scale_out")
    repairs = [_repair(300, "i", "scale_out", fixed=True)]
    assert _score([truth], [_incident("i", 60)], repairs).resolution_rate == 0.0


def test_unresolved_fault_is_not_resolved() -> None:
    truth = _crash(resolved_s=None, resolved_by=None)
    report = _score([truth], [_incident("i", 60)], [_repair(300, "i", fixed=True)])
    assert report.resolution_rate == 0.0


def test_fault_resolved_without_any_incident_still_counts() -> None:
    # the resolution is about the fault ending through our executor, not about diagnosis
    report = _score([_crash()], [], [_repair(300, None, fixed=True)])
    assert report.resolution_rate == 1.0
    assert report.first_repair_accuracy == 0.0


# --- repairs on healthy targets, loops stopped, empty runs ---------------------------------


def test_repairs_on_healthy_targets() -> None:
    repairs = [
        _repair(100, "i", target_had_fault=True),
        _repair(200, "x", platform="z", target_had_fault=False),
        _repair(300, None, platform="y", target_had_fault=False),
    ]
    report = _score([_crash()], [_incident("i", 60)], repairs)
    assert (report.repairs_executed, report.repairs_on_healthy) == (3, 2)


def test_loops_stopped_counts_circuit_breaker_escalations() -> None:
    escalations = [
        Escalation(_at(1), "i", "circuit breaker opened"),
        Escalation(_at(2), "j", "circuit breaker opened on a: repairs stopped"),
        Escalation(_at(3), "k", "repair plan exhausted"),
    ]
    report = _score([_crash()], [], escalations=escalations)
    assert (report.escalations, report.loops_stopped) == (3, 2)


def test_empty_run_has_no_rates() -> None:
    report = _score([], [])
    assert report.faults_injected == 0
    assert report.root_cause_accuracy is None
    assert report.first_repair_accuracy is None
    assert report.resolution_rate is None
    assert report.auto_resolution_rate is None
    assert report.detection_rate is None
    assert report.mttr_median_s is None
    assert report.false_alarms_per_platform_day == 0.0


def test_false_alarms_per_platform_day_by_hand() -> None:
    incidents = [_incident(f"i{index}", 60, ("z",), ("z",)) for index in range(3)]
    report = _score([], incidents, days=2.0, platform_count=4)
    assert report.false_alarms == 3
    assert report.false_alarms_per_platform_day == 0.375  # 3 / (4 * 2)


# --- resolution by risk ------------------------------------------------------------------

HIGH_RISK = frozenset({"add_index", "restore_from_backup"})


def _lost_database(resolved_by: str | None = "restore_from_backup") -> FaultTruth:
    resolved_s = None if resolved_by is None else 900.0
    return _truth(
        "f2", "db_unreachable", ("a", "b"), 0, resolved_s, resolved_by,
        ("restore_from_backup",), "postgres",
    )  # fmt: skip


def _score_by_risk(
    truths: list[FaultTruth], repairs: list[ExecutedRepair], high_risk: frozenset[str] | None
) -> ChaosReport:
    detection = match_detections([truth.fault for truth in truths], [])
    return score_chaos(
        truths, detection, [], repairs, [], days=1.0, platform_count=5, high_risk_actions=high_risk
    )


def test_low_risk_rate_counts_only_faults_with_a_fix_that_needs_no_approval() -> None:
    # the crash (restart: low risk) was fixed alone; the lost database needs an approval
    truths = [_crash(), _lost_database()]
    repairs = [
        _repair(300, "i1", fixed=True),
        _repair(900, "i2", "restore_from_backup", platform="a", fixed=True,
                approved_by_human=True),
    ]  # fmt: skip
    report = _score_by_risk(truths, repairs, HIGH_RISK)
    assert report.auto_resolution_rate_low_risk == 1.0
    assert report.auto_resolution_rate == 0.5
    assert report.resolution_rate == 1.0  # approvals included


def test_low_risk_rate_counts_a_low_risk_fault_left_unresolved() -> None:
    truths = [_crash(resolved_s=None, resolved_by=None), _lost_database(None)]
    report = _score_by_risk(truths, [], HIGH_RISK)
    assert report.auto_resolution_rate_low_risk == 0.0
    assert report.resolution_rate == 0.0


def test_low_risk_rate_does_not_count_an_approved_low_risk_fix() -> None:
    repairs = [_repair(300, "i1", fixed=True, approved_by_human=True)]
    report = _score_by_risk([_crash()], repairs, HIGH_RISK)
    assert report.auto_resolution_rate_low_risk == 0.0
    assert report.resolution_rate == 1.0


def test_a_fault_with_a_low_and_a_high_risk_fix_counts_as_low_risk() -> None:
    truth = _truth("f3", "slow_query", ("a",), 0, 300, "reindex", ("add_index", "reindex"), "pg")
    report = _score_by_risk([truth], [_repair(300, "i", "reindex", fixed=True)], HIGH_RISK)
    assert report.auto_resolution_rate_low_risk == 1.0


@pytest.mark.parametrize("high_risk", [None, HIGH_RISK])
def test_low_risk_rate_is_none_without_the_risk_set_or_low_risk_faults(
    high_risk: frozenset[str] | None,
) -> None:
    truths = [_lost_database()] if high_risk else [_crash()]
    report = _score_by_risk(truths, [_repair(300, "i1", fixed=True)], high_risk)
    assert report.auto_resolution_rate_low_risk is None
