"""A quiet start: what a service does in its first minutes against a healthy platform.

A (re)started service must compute alerts and anomalies only from what it observes after the
start: history may warm its detectors, never fire them. :func:`watch_quiet` watches one phase
(from a moment just before a start, for ``seconds``) and collects every alert whose
``starts_at``, every incident whose ``opened_at`` and every anomaly whose ``ts`` falls in the
phase; a healthy start has none of them. :func:`quiet_starts` runs a fresh start and
``restarts`` restarts of the service (same store, same simulator) and watches each.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from selfheal_ml.live.client import LiveClient
from selfheal_ml.live.stack import LiveStack


@dataclass(frozen=True)
class QuietPhase:
    """What one phase produced: alert names, incident ids and anomalous series."""

    name: str
    watched_s: float
    alerts: tuple[str, ...]
    incidents: tuple[str, ...]
    anomalies: tuple[str, ...]

    @property
    def quiet(self) -> bool:
        """No alert, no incident, no anomaly."""
        return not (self.alerts or self.incidents or self.anomalies)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the verdict."""
        return {**asdict(self), "quiet": self.quiet}


def _after(stamp: Any, moment: datetime) -> bool:
    return isinstance(stamp, str) and datetime.fromisoformat(stamp) >= moment


def watch_quiet(
    client: LiveClient, name: str, since: datetime, seconds: float, progress: bool = False
) -> QuietPhase:
    """Wait until ``seconds`` after ``since``, then read what started after ``since``."""
    remaining = seconds - (datetime.now(UTC) - since).total_seconds()
    for _ in tqdm(range(max(0, round(remaining))), desc=name, unit="s", disable=not progress):
        time.sleep(1.0)
    alerts = [
        alert.get("labels", {}).get("alertname", "?")
        for alert in client.alerts()
        if _after(alert.get("starts_at"), since)
    ]
    incidents = [str(i["incident_id"]) for i in client.incidents() if _after(i["opened_at"], since)]
    anomalies = [str(a["series"]) for a in client.anomalies() if _after(a.get("ts"), since)]
    return QuietPhase(name, seconds, tuple(alerts), tuple(incidents), tuple(anomalies))


def quiet_starts(
    stack: LiveStack, since: datetime, seconds: float, restarts: int, progress: bool = False
) -> list[QuietPhase]:
    """Watch the stack's fresh start (launched just after ``since``), then each restart."""
    assert stack.sim is not None and stack.service is not None, "start the stack first"
    phases: list[QuietPhase] = []
    with LiveClient(stack.sim.url, stack.service.url) as client:
        phases.append(watch_quiet(client, "start", since, seconds, progress))
        for number in range(1, restarts + 1):
            restarted_at = datetime.now(UTC)
            stack.restart_service()
            phase = watch_quiet(client, f"restart {number}", restarted_at, seconds, progress)
            phases.append(phase)
    return phases
