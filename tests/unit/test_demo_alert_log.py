"""The demo's alert log: what counts as one sign of trouble when scoring against the faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.demo import AlertLog, unmatched_by_kind
from selfheal_ml.evaluation.detection import Fault, match_detections
from selfheal_ml.events import AlertRaised, BreachPredicted

T0 = datetime(2026, 1, 5, tzinfo=UTC)
SERIES = 'host_memory_percent{host="a-1",platform="a"}'


def _prediction(minutes: float, series: str = SERIES) -> BreachPredicted:
    at = T0 + timedelta(minutes=minutes)
    return BreachPredicted(
        ts=at, source="Predictive", series=series, limit=85.0, eta=at + timedelta(hours=3),
        probability=0.9, labels={"platform": "a"},
    )  # fmt: skip


async def test_a_prediction_repeated_while_it_holds_counts_once() -> None:
    log = AlertLog()
    for minutes in (0, 5, 10, 15, 20):  # the capacity check repeats it every 5 min
        await log.record(_prediction(minutes))
    await log.record(_prediction(5, series='host_disk_percent{host="a-1",platform="a"}'))
    await log.record(_prediction(160))  # after a gap of over two hours: a new prediction
    assert [(o.ts - T0).total_seconds() / 60 for o in log.observations] == [0, 5, 160]
    assert log.severities["warning"] == 3


async def test_signs_that_match_no_fault_are_listed_and_counted_by_kind() -> None:
    """The report names what woke an operator for nothing: alert name and metric."""
    log = AlertLog()
    await log.record(_prediction(0))  # during the fault below: matched
    await log.record(_prediction(300, series='host_cpu_percent{host="a-1",platform="a"}'))
    fault = Fault("f1", "memory_leak", "a", ("a",), T0, T0 + timedelta(minutes=30), "restart")
    report = match_detections([fault], log.observations)
    assert report.false_alarms == 1
    assert [(o.alertname, o.labels["metric"]) for o in report.unmatched] == [
        ("CapacityBreachPredicted", "host_cpu_percent")
    ]
    assert unmatched_by_kind(report.unmatched) == {"CapacityBreachPredicted host_cpu_percent": 1}


async def test_an_inhibited_alert_counts_when_its_condition_outlasts_the_repair() -> None:
    log = AlertLog()
    firing = AlertRaised(
        ts=T0, source="Monitor", alertname="ServerErrors", severity="warning",
        labels={"platform": "a"}, inhibited_by="reset_db_connections for incident i1: ...",
    )  # fmt: skip
    await log.record(firing)
    assert log.observations == []  # a record of the repair's side effect, not an alert
    resent = firing.model_copy(update={"ts": T0 + timedelta(minutes=2), "inhibited_by": ""})
    await log.record(resent)
    assert [(o.alertname, o.ts) for o in log.observations] == [("ServerErrors", resent.ts)]
