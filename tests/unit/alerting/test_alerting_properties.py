"""Invariant: a condition that keeps firing notifies at most once per group_interval."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.alerting import AlertManager, RecordingNotifier
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database

GROUP_INTERVAL_S = 300.0
REPEAT_INTERVAL_S = 3600.0


@settings(max_examples=20, deadline=None)
@given(steps=st.lists(st.floats(min_value=0.0, max_value=290.0), min_size=1, max_size=25))
def test_repeated_firing_notifies_at_most_once_per_group_interval(steps: list[float]) -> None:
    clock = SimClock(datetime(2026, 1, 5, tzinfo=UTC))
    recorder = RecordingNotifier()
    database = Database(":memory:")
    manager = AlertManager(
        AlertStore(database),
        clock,
        [recorder],
        group_wait_s=30.0,
        group_interval_s=GROUP_INTERVAL_S,
        repeat_interval_s=REPEAT_INTERVAL_S,
    )
    sent_at: list[datetime] = []
    for step in steps:  # each gap < resolve_timeout, so the alert never resolves
        manager.fire({"alertname": "HighLatency"}, {"step": str(step)}, "warning")
        sent_at.extend(n.sent_at for n in manager.evaluate())
        clock.advance(step)
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(sent_at)]
    assert all(gap >= GROUP_INTERVAL_S for gap in gaps)
    assert all(gap >= REPEAT_INTERVAL_S for gap in gaps)  # nothing changed: only repeats
    assert all(p.status == "firing" and len(p.alerts) == 1 for p in recorder.payloads)
    assert manager.counts().total == 1
    database.close()
