"""IncidentStore: history round trip, attempts label incidents, playbooks survive a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from selfheal_ml.repair import FEATURE_NAMES, IncidentRecord, Signal
from selfheal_ml.storage import Database
from selfheal_ml.storage.incidents import HistoryIncident, IncidentStore, RepairAttemptRecord

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _incident(number: int, label: str | None = "clear_cache") -> HistoryIncident:
    opened = T0 + timedelta(hours=number)
    record = IncidentRecord(
        opened_at=opened,
        signals=(
            Signal("cache_hit_ratio", -12.0, dependency="redis"),
            Signal("http_latency_p95_ms", 6.0, platform="tackle.io"),
        ),
    )
    attempt = RepairAttemptRecord(
        ts=opened + timedelta(minutes=5),
        strategy="clear_cache",
        action="clear_cache",
        target="tackle.io",
        approved_by="Repair",
        outcome="worked" if label else "did_not_work",
    )
    return HistoryIncident(
        incident_id=f"i{number}",
        started_at=opened - timedelta(minutes=3),
        opened_at=opened,
        closed_at=opened + timedelta(minutes=10),
        platforms=("tackle.io",),
        severity="warning",
        status="resolved",
        root_cause="stuck_cache",
        record=record,
        attempts=(attempt,),
        resolved_by=label,
        source="simulated",
    )


@pytest.fixture
def store(db_path: Path) -> IncidentStore:
    return IncidentStore(Database(db_path))


def test_history_round_trip(store: IncidentStore) -> None:
    assert store.append_history([_incident(0), _incident(1, label=None), _incident(2)]) == 3
    frame = store.incidents_frame()
    assert list(frame["incident_id"]) == ["i0", "i1", "i2"]
    assert frame.loc[0, "time_to_detect_s"] == pytest.approx(180.0)
    assert frame.loc[0, "time_to_repair_s"] == pytest.approx(600.0)
    assert str(frame.loc[0, "signature"]).startswith("platform|")
    assert len(store.attempts_frame()) == 3
    assert len(store.signals_frame()) == 6
    features, labels, opened = store.labelled_frame()
    assert labels == ["clear_cache", "clear_cache"]
    assert list(features.columns) == list(FEATURE_NAMES)
    assert features.loc[0, "cache_hit_ratio_down"] == 12.0
    assert opened[0] < opened[1]
    assert store.count_labelled() == 2
    assert store.count_labelled(since=T0 + timedelta(minutes=30)) == 1


def test_append_replaces_an_incident_with_the_same_id(store: IncidentStore) -> None:
    store.append_history([_incident(0)])
    store.append_history([_incident(0)])
    assert len(store.incidents_frame()) == 1
    assert len(store.attempts_frame()) == 1


def test_a_bare_row_gains_features_once(store: IncidentStore) -> None:
    bare = _incident(5)
    bare = HistoryIncident(
        incident_id="i5",
        started_at=None,
        opened_at=bare.opened_at,
        closed_at=None,
        platforms=("a",),
        severity="warning",
        status="open",
        root_cause=None,
        record=IncidentRecord(opened_at=bare.opened_at),
    )
    store.open_incident(bare)
    assert store.count_labelled() == 0 and store.signature_of("i5") == "platform|none"
    store.open_incident(_incident(5))  # the diagnosis arrives later: features filled in
    assert "cache_hit_ratio_down" in (store.signature_of("i5") or "")
    assert len(store.signals_frame()) == 2
    store.open_incident(_incident(5))  # and only once
    assert len(store.signals_frame()) == 2


def test_a_worked_attempt_closes_and_labels_the_incident(store: IncidentStore) -> None:
    store.open_incident(_incident(3, label=None))
    attempt = RepairAttemptRecord(
        ts=T0 + timedelta(hours=4),
        strategy="rollback_config",
        action="rollback_config",
        target="tackle.io",
        approved_by="human",
        outcome="worked",
    )
    store.record_attempt("i3", attempt)
    row = store.incident("i3")
    assert row is not None
    assert row["resolved_by"] == "rollback_config" and row["status"] == "resolved"
    assert row["time_to_repair_s"] == pytest.approx(3600.0)
    assert store.incident("missing") is None


def test_playbooks_and_state_survive_a_restart(db_path: Path) -> None:
    database = Database(db_path)
    store = IncidentStore(database)
    for worked in (True, True, False):
        store.update_playbook("sig", "clear_cache", worked=worked, ts=T0)
    store.update_playbook("sig", "add_index", worked=False, ts=T0)
    store.set_state("labelled_at_last_training", "12", T0)
    database.close()

    reopened = IncidentStore(Database(db_path))
    entries = {entry.strategy: entry for entry in reopened.playbook("sig")}
    assert (entries["clear_cache"].attempts, entries["clear_cache"].successes) == (3, 2)
    assert (entries["add_index"].attempts, entries["add_index"].successes) == (1, 0)
    assert reopened.state("labelled_at_last_training") == "12"
    assert reopened.state("nothing") is None


def test_read_only_open_sees_the_history(db_path: Path) -> None:
    database = Database(db_path)
    IncidentStore(database).append_history([_incident(0)])
    database.close()
    reader = Database(db_path, read_only=True)
    assert len(IncidentStore(reader).incidents_frame()) == 1
    reader.close()


def test_recent_incidents_are_the_newest_first_bounded_and_filtered(store: IncidentStore) -> None:
    store.append_history([_incident(number) for number in range(6)])
    store.open_incident(
        HistoryIncident(
            incident_id="open-one",
            started_at=None,
            opened_at=T0 + timedelta(hours=2, minutes=30),
            closed_at=None,
            platforms=("a",),
            severity="warning",
            status="open",
            root_cause=None,
            record=IncidentRecord(opened_at=T0),
        )
    )
    assert list(store.recent_incidents(3)["incident_id"]) == ["i5", "i4", "i3"]
    assert list(store.recent_incidents(10, "open")["incident_id"]) == ["open-one"]
    assert len(store.recent_incidents(10, "resolved")) == 6
    assert store.recent_incidents(10, "escalated").empty


def test_attempts_of_reads_only_the_incidents_asked_for(store: IncidentStore) -> None:
    store.append_history([_incident(number) for number in range(4)])
    attempts = store.attempts_of(["i1", "i3", "unknown"])
    assert sorted(attempts["incident_id"]) == ["i1", "i3"]
    assert list(attempts.columns) == list(store.attempts_frame().columns)
    assert store.attempts_of([]).empty


def test_every_revision_and_status_change_reaches_the_incident_record(
    store: IncidentStore,
) -> None:
    """The first diagnosis names no cause; the second names the database: the row takes the
    latest (root cause, platforms, severity, diagnosis), both revisions are kept, and the
    lifecycle's moves are recorded with their reasons."""
    from selfheal_ml.events import IncidentDiagnosed
    from selfheal_ml.lifecycle import Diagnosis, IncidentStatus
    from selfheal_ml.training.history import diagnosed_incident

    opened = datetime(2026, 1, 5, 8, tzinfo=UTC)
    first = Diagnosis(revision=1, opened_at=opened, platforms=("a",), severity="warning")
    second = Diagnosis(
        revision=2, opened_at=opened, root_cause="db_unreachable", component="postgres",
        platforms=("a", "b"), severity="critical", strategy="reset_db_connections",
    )  # fmt: skip
    for diagnosis, minute in ((first, 1), (second, 2)):
        event = IncidentDiagnosed(
            ts=opened + timedelta(minutes=minute), source="Diagnostic", incident_id="i1",
            diagnosis=diagnosis,
        )  # fmt: skip
        store.record_diagnosis(diagnosed_incident(event), diagnosis, event.ts)
    row = store.incident("i1")
    assert row is not None
    assert (row["root_cause"], list(row["platforms"]), row["severity"], row["status"]) == (
        "db_unreachable@postgres", ["a", "b"], "critical", "diagnosed",
    )  # fmt: skip
    assert [item.revision for item in store.revisions("i1")] == [1, 2]
    assert store.revisions("i1")[1] == second
    store.record_status("i1", IncidentStatus.VERIFYING, opened + timedelta(minutes=3), "ran")
    store.record_status("i1", IncidentStatus.RECOVERED, opened + timedelta(minutes=4), "ok")
    row = store.incident("i1")
    assert row is not None and row["status"] == "recovered"
    assert row["closed_at"] == opened + timedelta(minutes=4)
    moves = store.transitions(["i1"])
    assert list(moves["status"]) == ["verifying", "recovered"]
    assert list(moves["reason"]) == ["ran", "ok"]
