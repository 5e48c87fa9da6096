"""Live detection in real processes: ``sim serve`` + ``serve --dev``, as users run them (issue 15).

``test_live_detection.py`` checks the detection path in virtual time; this module checks the
running service. One stack (:class:`~selfheal_ml.live.stack.LiveStack`, the fixtures'
machinery of ``test_live_loop.py``: free ports, a temporary DuckDB file and MLflow store,
checks and metrics every :data:`INTERVAL_S` seconds through the environment) starts fresh, with
no stored history. Once every watched series holds :data:`WARM_POINTS` scored points (enough for
the Predictive agent's cold-start stage to score, :data:`~selfheal_ml.agents.predictive.SCORING`),
the README's fault is injected: ``db_unreachable`` on leadsite.ai's database, which every
platform shares. Checked, through the public API only:

- the fresh start raises nothing: no anomaly (``GET /v1/anomalies``) and no ``AnomalyDetected``
  alert (``GET /v1/alerts``) stamped before the injection;
- within two metric intervals of the first collection that shows the fault, every affected
  platform has anomalies on its latency and error series, each with its explanation fields
  (component, expected range, calibrated score at or above the alert threshold). The simulator
  applies ``db_unreachable`` at once (no ramp), so the first collection round stamped after the
  injection shows it, and the bound is the third round after the injection. Rounds, not
  seconds: the bound reads the rounds' own stamps (``GET /v1/series/{series}``) and the
  anomalies' stamps, so a slow poll or a late round on a loaded machine can neither hide a
  late detection nor fail an in-time one. (A fresh service has no history to warm from, so its
  detections come from the cold-start stage, which waits for three consecutive departures:
  that is the two intervals. Warmed detectors flag the first point; the virtual-time test
  covers them.)

Waits are deadlines on conditions (points scored, anomalies listed), not fixed sleeps; the
deadlines are generous because the machine may be loaded, the timing bound is not.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from selfheal_ml.agents.predictive import SCORING
from selfheal_ml.anomaly.alert_policy import DEFAULT_THRESHOLD
from selfheal_ml.live.client import LiveClient
from selfheal_ml.live.stack import LIVE_TIMING, LiveStack, StackError

pytestmark = pytest.mark.integration

INTERVAL_S = float(LIVE_TIMING["SELFHEAL_METRICS_INTERVAL_S"])
WARM_POINTS = SCORING.cold_start_min_points + 6  # the cold-start stage scores from 24 points
FAULT_KIND, FAULT_PLATFORM = "db_unreachable", "leadsite.ai"
WATCHED = "http_latency_p95_ms"  # the series whose scored points gate the injection
LATENCY_PREFIXES = ("http_latency_", "db_query_duration")
ERROR_PREFIXES = ("http_error", "http_5xx")
WARM_DEADLINE_S = 12 * WARM_POINTS * INTERVAL_S  # a loaded machine collects slowly
DETECT_ROUNDS = 3  # the round that first shows the fault and the two after it
DETECT_DEADLINE_S = 40.0  # how long to poll for the anomalies (the bound is on their stamps)
POLL_S = 1.0
PLATFORM = re.compile(r'platform="([^"]+)"')
Found = TypeVar("Found")


@dataclass
class Observation:
    """What the stack showed: the fault as the simulator recorded it, and the anomalies and
    alerts listed before the injection and at the end of polling."""

    stack: LiveStack
    skipped: str | None = None
    fault: dict[str, Any] = field(default_factory=dict)
    anomalies_before: list[dict[str, Any]] = field(default_factory=list)
    alerts_before: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[datetime] = field(default_factory=list)  # collections after the injection

    def injected_at(self) -> datetime:
        return datetime.fromisoformat(self.fault["injected_at"])

    def report(self) -> str:
        """The fault, the anomalies and the end of both logs: what a failure prints."""
        return (
            f"fault {json.dumps(self.fault, indent=1)}\n"
            f"anomalies before {json.dumps(self.anomalies_before, indent=1)}\n"
            f"anomalies {json.dumps(self.anomalies[:40], indent=1)}\n{self.stack.logs()}"
        )


def wait_for(condition: Callable[[], Found | None], deadline_s: float, what: str) -> Found:
    """Poll ``condition`` until it returns something (not None); fail after ``deadline_s``."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        found = condition()
        if found is not None:
            return found
        time.sleep(POLL_S)
    pytest.fail(f"not within {deadline_s:.0f} s: {what}")


def platform_of(series: str) -> str | None:
    match = PLATFORM.search(series)
    return match.group(1) if match else None


def scored_points(client: LiveClient, series: str) -> int:
    """How many points of ``series`` the service has scored (``GET /v1/series/{series}``)."""
    response = client.service.get(f"/v1/series/{series}", params={"hours": 1})
    response.raise_for_status()
    return len(response.json()["scores"]["ts"])


def warmed(client: LiveClient) -> list[str] | None:
    """The watched series of the faulted platform once each has ``WARM_POINTS`` scores."""
    response = client.service.get("/v1/series", params={"prefix": WATCHED})
    response.raise_for_status()
    names = [name for name in response.json() if platform_of(name) == FAULT_PLATFORM]
    if names and all(scored_points(client, name) >= WARM_POINTS for name in names):
        return names
    return None


def collection_rounds(client: LiveClient, series: str, after: datetime) -> list[datetime]:
    """The service's collection rounds after ``after``: the stamps of the points of
    ``series`` it scored (every series of a round carries the round's stamp)."""
    response = client.service.get(f"/v1/series/{series}", params={"hours": 1})
    response.raise_for_status()
    stamps = (datetime.fromisoformat(ts) for ts in response.json()["scores"]["ts"])
    return sorted(stamp for stamp in stamps if stamp > after)


def early_anomalies(observation: Observation, rounds: int = DETECT_ROUNDS) -> list[dict[str, Any]]:
    """Anomalies stamped after the injection, up to the ``rounds``-th collection after it (all
    of them after the injection while fewer rounds were seen)."""
    start = observation.injected_at()
    collected = observation.rounds
    end = collected[rounds - 1] if len(collected) >= rounds else datetime.max.replace(tzinfo=UTC)
    return [
        anomaly
        for anomaly in observation.anomalies
        if start <= datetime.fromisoformat(anomaly["ts"]) <= end
    ]


def platforms_missing(anomalies: list[dict[str, Any]], platforms: set[str]) -> set[str]:
    """The platforms among ``platforms`` that lack a latency or an error anomaly."""
    missing = set()
    for platform in platforms:
        mine = [a["series"] for a in anomalies if platform_of(a["series"]) == platform]
        latency = any(name.startswith(LATENCY_PREFIXES) for name in mine)
        errors = any(name.startswith(ERROR_PREFIXES) for name in mine)
        if not (latency and errors):
            missing.add(platform)
    return missing


def observe(stack: LiveStack, observation: Observation) -> None:
    """Warm up, check quiet, inject the fault, then poll until every affected platform shows
    latency and error anomalies (or the deadline passes: the tests then say what is missing)."""
    assert stack.sim is not None and stack.service is not None
    with LiveClient(stack.sim.url, stack.service.url) as client:
        watched = wait_for(lambda: warmed(client), WARM_DEADLINE_S, f"{WARM_POINTS} points")
        observation.anomalies_before = client.anomalies()
        observation.alerts_before = client.alerts()
        fault_id = client.inject(FAULT_KIND, FAULT_PLATFORM)
        observation.fault = client.fault(fault_id)
        affected = set(observation.fault["platforms"])
        started = time.monotonic()
        while time.monotonic() - started < DETECT_DEADLINE_S:
            observation.anomalies = client.anomalies()
            if not platforms_missing(early_anomalies(observation), affected):
                break
            time.sleep(POLL_S)
        injected = observation.injected_at()
        observation.rounds = collection_rounds(client, watched[0], injected)


@pytest.fixture(scope="module")
def observation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observation]:
    """One fresh stack through warm-up and the outage; always stopped afterwards."""
    stack = LiveStack(tmp_path_factory.mktemp("live_detection"))
    result = Observation(stack)
    try:
        stack.launch()
        try:
            stack.wait_ready()
        except StackError as error:
            result.skipped = f"live stack did not start: {error}\n{error.log[-1500:]}"
        if result.skipped is None:
            observe(stack, result)
        yield result
    finally:
        stack.stop()


def checked(observation: Observation, checks: Callable[[Observation], None]) -> None:
    """Run the assertions; on a failure print what the stack showed."""
    if observation.skipped is not None:
        pytest.skip(observation.skipped)
    try:
        checks(observation)
    except AssertionError:
        print(observation.report())
        raise


def test_a_fresh_start_raises_no_anomaly(observation: Observation) -> None:
    def checks(seen: Observation) -> None:
        injected = seen.injected_at()
        listed = seen.anomalies_before + seen.anomalies
        early = [a["series"] for a in listed if datetime.fromisoformat(a["ts"]) < injected]
        assert not early, f"anomalies before the fault (warm-up must not fire): {early}"
        alerts = [json.dumps(alert) for alert in seen.alerts_before]
        assert not [alert for alert in alerts if "AnomalyDetected" in alert], alerts

    checked(observation, checks)


def first_seen_s(observation: Observation) -> dict[str, dict[str, float]]:
    """Per platform, seconds from the injection to its first latency and error anomaly."""
    injected = observation.injected_at()
    seen: dict[str, dict[str, float]] = {}
    for anomaly in observation.anomalies:
        platform, name = platform_of(anomaly["series"]), anomaly["series"]
        kind = "latency" if name.startswith(LATENCY_PREFIXES) else "errors"
        if platform is None or not name.startswith(LATENCY_PREFIXES + ERROR_PREFIXES):
            continue
        offset_s = (datetime.fromisoformat(anomaly["ts"]) - injected).total_seconds()
        earlier = seen.setdefault(platform, {}).get(kind, offset_s)
        seen[platform][kind] = min(earlier, offset_s)
    return seen


def test_the_outage_shows_on_latency_and_errors_within_two_intervals(
    observation: Observation,
) -> None:
    def checks(seen: Observation) -> None:
        early = early_anomalies(seen)
        affected = set(seen.fault["platforms"])
        offsets = [round((r - seen.injected_at()).total_seconds(), 2) for r in seen.rounds]
        print(f"\nrounds, s after the injection: {offsets[:6]}")
        print(f"first anomaly, s after the injection: {first_seen_s(seen)}")
        assert affected and FAULT_PLATFORM in affected, seen.fault
        assert len(seen.rounds) >= DETECT_ROUNDS, "the service stopped collecting"
        missing = platforms_missing(early, affected)
        assert not missing, f"no latency and error anomalies in time on {sorted(missing)}"
        for anomaly in early:
            assert anomaly["component"], anomaly
            assert anomaly["expected_low"] is not None and anomaly["expected_high"] is not None
            assert anomaly["expected_low"] <= anomaly["expected_high"], anomaly
            assert anomaly["score"] >= DEFAULT_THRESHOLD, anomaly

    checked(observation, checks)
