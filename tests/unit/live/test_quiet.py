"""watch_quiet: only what started after the phase began counts against a quiet start."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from selfheal_ml.live.client import LiveClient
from selfheal_ml.live.quiet import watch_quiet

SINCE = datetime(2026, 1, 5, 8, tzinfo=UTC)
BEFORE = (SINCE - timedelta(minutes=1)).isoformat()
AFTER = (SINCE + timedelta(minutes=1)).isoformat()


class Answers:
    """What the service's routes answer (the shapes of ``/v1/alerts``, ``/v1/incidents`` and
    ``/v1/anomalies``): one item before the phase, one after."""

    def alerts(self) -> list[dict[str, Any]]:
        return [
            {"labels": {"alertname": "HighResponseTime"}, "starts_at": BEFORE},
            {"labels": {"alertname": "HighErrorRate"}, "starts_at": AFTER},
        ]

    def incidents(self) -> list[dict[str, Any]]:
        return [
            {"incident_id": "old", "opened_at": BEFORE},
            {"incident_id": "new", "opened_at": AFTER},
        ]

    def anomalies(self) -> list[dict[str, Any]]:
        return [{"series": "db_up", "ts": AFTER}, {"series": "cpu", "ts": BEFORE}]


def test_only_what_started_in_the_phase_counts() -> None:
    phase = watch_quiet(cast(LiveClient, Answers()), "start", SINCE, seconds=0.0)
    assert (phase.alerts, phase.incidents, phase.anomalies) == (
        ("HighErrorRate",), ("new",), ("db_up",),
    )  # fmt: skip
    assert not phase.quiet and phase.as_dict()["quiet"] is False


def test_bad_arguments_are_one_line_and_exit_2() -> None:
    script = Path(__file__).parents[3] / "pipelines" / "live_quiet_start.py"
    finished = subprocess.run(
        [sys.executable, str(script), "--restarts", "-1"], capture_output=True, text=True
    )
    assert finished.returncode == 2
    assert finished.stderr.strip().count("\n") == 0 and "--restarts" in finished.stderr
