"""Fault schedules are reproducible and leave fault-free stretches; runs follow them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.sim import CATALOGUE, FaultKind, PlatformSimulator
from selfheal_ml.sim.schedule import FaultSchedule, run_schedule

START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_schedule_is_reproducible_and_spaced(seed: int) -> None:
    schedule = FaultSchedule.random(seed=seed, days=7, n_faults=12)
    assert schedule == FaultSchedule.random(seed=seed, days=7, n_faults=12)
    assert schedule != FaultSchedule.random(seed=seed + 100, days=7, n_faults=12)
    faults = schedule.faults
    assert len(faults) == 12
    assert faults[0].at_s >= 86400.0  # a fault-free first day for warm-up
    for fault, following in itertools.pairwise(faults):
        assert fault.at_s + fault.duration_s < following.at_s  # a fault-free gap after each
    assert faults[-1].at_s + faults[-1].duration_s < 7 * 86400.0
    for fault in faults:
        if CATALOGUE[fault.kind].scope == "platform":
            assert fault.platform is not None
        assert 0.0 < fault.severity <= 1.0


def test_some_faults_recur() -> None:
    schedule = FaultSchedule.random(seed=5, days=14, n_faults=30, recur_probability=0.5)
    pairs = [(fault.kind, fault.platform) for fault in schedule.faults]
    assert len(set(pairs)) < len(pairs)


def test_schedule_respects_kinds_and_rejects_bad_arguments() -> None:
    kinds = [FaultKind.DISK_FILLING, "brute_force_login"]
    schedule = FaultSchedule.random(seed=1, days=3, n_faults=5, kinds=kinds)
    assert {fault.kind for fault in schedule.faults} <= {
        FaultKind.DISK_FILLING,
        FaultKind.BRUTE_FORCE_LOGIN,
    }
    for arguments, field in (
        ({"days": 0.0, "n_faults": 1}, "days"),
        ({"days": 1.0, "n_faults": -1}, "n_faults"),
        ({"days": 1.0, "n_faults": 100}, "n_faults"),
    ):
        with pytest.raises(ValidationError) as caught:
            FaultSchedule.random(seed=1, **arguments)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_run_schedule_injects_records_and_lets_faults_expire() -> None:
    schedule = FaultSchedule.random(seed=9, days=1, n_faults=3)
    sim = PlatformSimulator(seed=9, start=START)
    calls: list[datetime] = []
    run = run_schedule(sim, schedule, duration_s=86400.0, on_chunk=lambda s: calls.append(s.now()))
    assert run.values.shape == (2880, len(sim.catalogue.keys))
    np.testing.assert_allclose(np.diff(run.offsets_s), 30.0)
    assert len(calls) >= 24 and calls[-1] == START + timedelta(days=1)
    assert [record.kind for record in run.faults] == [fault.kind for fault in schedule.faults]
    for record, planned in zip(run.faults, schedule.faults, strict=True):
        assert 0.0 <= (record.injected_at - START).total_seconds() - planned.at_s <= 30.0
        assert record.resolved_by == "expired"
    frame = run.long_frame()
    assert len(frame) == run.values.size
    assert set(frame.columns) == {"series", "ts", "value"}
    assert frame["ts"].iloc[0] == START + timedelta(seconds=30)
    assert np.isfinite(run.values).all()


def test_run_without_recording_keeps_no_values() -> None:
    sim = PlatformSimulator(seed=9, start=START)
    run = run_schedule(sim, FaultSchedule(()), duration_s=3600.0, record=False)
    assert run.values.shape == (0, len(sim.catalogue.keys))
    assert sim.now() == START + timedelta(hours=1)


def test_recorded_run_matches_stepping_by_hand() -> None:
    schedule = FaultSchedule.random(seed=4, days=1, n_faults=2)
    bulk = run_schedule(PlatformSimulator(seed=4, start=START), schedule, duration_s=43200.0)
    sim = PlatformSimulator(seed=4, start=START)
    pending = list(schedule.faults)
    rows = []
    for _ in range(1440):
        while pending and pending[0].at_s <= sim.elapsed_s:
            due = pending.pop(0)
            sim.inject(due.kind, due.platform, due.severity, due.duration_s)
        sim.advance(30.0)
        rows.append(sim.values())
    np.testing.assert_allclose(bulk.values, np.vstack(rows), rtol=1e-9)


def test_schedule_draws_only_the_kinds_asked_for() -> None:
    schedule = FaultSchedule.random(7, 3.0, 20, ["memory_leak", "disk_filling"])
    assert {fault.kind for fault in schedule.faults} == {"memory_leak", "disk_filling"}


def test_unknown_kind_names_the_setting_and_the_known_kinds() -> None:
    with pytest.raises(ValidationError, match=r"kinds: unknown fault kind.*memory_leak"):
        FaultSchedule.random(7, 3.0, 20, ["memroy_leak"])
