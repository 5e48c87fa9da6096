"""Capacity predictions on the simulator: a memory leak is predicted, a quiet disk never is.

The checks run the way the Predictive agent runs them: every hour, the last 6 hours of the
resource series at 5-minute means, through ``predict_breach`` with the agent's limits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from selfheal_ml.forecast import predict_breach
from selfheal_ml.sim import (
    FaultKind,
    FaultSchedule,
    PlatformSimulator,
    ScheduledFault,
    run_schedule,
)

START = datetime(2026, 1, 5, tzinfo=UTC)
WINDOW = timedelta(hours=6)


def _series(run_frame: pd.DataFrame, prefix: str) -> dict[str, pd.Series]:
    chosen = run_frame[run_frame["series"].str.startswith(prefix)]
    return {
        name: pd.Series(group["value"].to_numpy(), index=pd.DatetimeIndex(group["ts"], tz="UTC"))
        for name, group in chosen.groupby("series")
    }


def _hourly_checks(values: pd.Series, limit: float) -> list[tuple[pd.Timestamp, float]]:
    """(check time, hours to breach) for each hourly check that predicts a breach."""
    found = []
    for now in pd.date_range(values.index[0] + timedelta(hours=1), values.index[-1], freq="1h"):
        recent = values[(values.index > now - WINDOW) & (values.index <= now)]
        breach = predict_breach(recent.resample("5min").mean().dropna(), limit)
        if breach is not None:
            found.append((now, breach.time_to_breach_s / 3600))
    return found


def test_memory_leak_yields_a_breach_with_a_sensible_eta() -> None:
    simulator = PlatformSimulator(seed=21, start=START)
    leak = ScheduledFault(2 * 3600.0, FaultKind.MEMORY_LEAK, "tackle.io", 0.5, 20 * 3600.0)
    run = run_schedule(simulator, FaultSchedule(faults=(leak,)), 20 * 3600.0)
    memory = _series(run.long_frame(), "host_memory_percent")
    leaking = next(values for name, values in memory.items() if "tackle.io" in name)
    predictions = _hourly_checks(leaking, limit=85.0)
    crossed_at = leaking[leaking > 85.0].index[0]
    before = [(when, hours) for when, hours in predictions if when < crossed_at]
    assert before, "the leak was not predicted before memory crossed 85 %"
    when, hours = before[-1]  # the last prediction before the crossing
    predicted_at = when + pd.Timedelta(hours=hours)
    error_h = abs((predicted_at - crossed_at).total_seconds()) / 3600
    print(
        f"\nleak crosses 85 % at {crossed_at:%H:%M}; first predicted at {before[0][0]:%H:%M};"
        f" last prediction before it was off by {error_h:.1f} h"
    )
    assert error_h <= 2.0
    quiet = [name for name, values in memory.items() if "tackle.io" not in name]
    for name in quiet:
        assert _hourly_checks(memory[name], limit=85.0) == [], name


def test_quiet_disks_yield_no_breach_over_a_week() -> None:
    simulator = PlatformSimulator(seed=22, start=START)
    run = run_schedule(simulator, FaultSchedule(faults=()), 7 * 86400.0)
    disks = _series(run.long_frame(), "host_disk_percent")
    assert len(disks) == 5
    for name, values in disks.items():
        assert _hourly_checks(values, limit=90.0) == [], name
