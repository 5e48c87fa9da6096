"""Labelled incident histories from the simulator, in virtual time.

:func:`plan_incidents` spreads ``count`` faults over ``days`` from ``start`` (kinds uniform,
platforms uniform, severity 0.3-1.0; with ``recur_probability`` a fault repeats the kind and
platform of an earlier one; some faults are transient and may end before anyone acts).
:func:`simulate_incident` replays one planned fault in its own simulator window: 30 min of
normal life, the injection, detection as the Monitor would see it (:mod:`.observe`), the
anomaly snapshot (with gaps, see :func:`observed_series`; the deploy log is unavailable for
10 % of incidents), then a responder that tries the strategies the rules rank first
(sometimes exploring another plausible one), verifying each on the simulator; wrong
strategies fail (unless a transient fault ends during the verification window: false credit,
as in real life), and after three failures a human applies the fix. The label is the
strategy whose verified outcome was ``worked``.
:func:`generate_history` runs a whole plan (optionally on several processes), then fills in
what depends on the order of incidents: signatures, recurrence counts and features.

>>> from datetime import UTC, datetime
>>> history = generate_history(seed=3, count=4, start=datetime(2026, 1, 5, tzinfo=UTC), days=2)
>>> len(history) <= 4 and all(item.opened_at >= item.started_at for item in history)
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from selfheal_ml.repair.baselines import STRATEGIES, rule_ranking
from selfheal_ml.repair.features import incident_features
from selfheal_ml.repair.incident import IncidentRecord, anomalous_platforms, incident_signature
from selfheal_ml.sim import CATALOGUE, FaultKind, PlatformSimulator
from selfheal_ml.storage.incidents import HistoryIncident, RepairAttemptRecord
from selfheal_ml.training.observe import (
    SeriesLayout,
    detection_step,
    snapshot_scores,
    snapshot_signals,
)

BASELINE_S = 1200.0
CHUNK_S = 600.0
MAX_DETECT_S = 10 * 3600.0
VERIFY_S = 300.0
MAX_AUTOMATIC_ATTEMPTS = 3
SIMILAR_WINDOW = timedelta(days=7)
MISSING_SERIES_PROBABILITY = 0.1
MISSING_COLLECTOR_PROBABILITY = 0.15
MISSING_DEPLOY_LOG_PROBABILITY = 0.1
_SOURCES = (("host_", "host"), ("db_", "postgres"), ("cache_", "redis"), ("redis_", "redis"))


@dataclass(frozen=True)
class PlannedIncident:
    """One fault to replay: when, what, where, how bad, how long, how the responder acts."""

    index: int
    at: datetime
    kind: FaultKind
    platform: str | None
    severity: float
    duration_s: float | None
    explore: bool
    seed: int


def plan_incidents(
    seed: int,
    count: int,
    start: datetime,
    days: float,
    recur_probability: float = 0.25,
    transient_probability: float = 0.05,
    explore_probability: float = 0.2,
) -> list[PlannedIncident]:
    """A reproducible plan of ``count`` faults over ``days`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    kinds = list(FaultKind)
    platforms = [name for name in PlatformSimulator(seed, start).platform_names]
    offsets = np.sort(rng.uniform(0.0, days * 86400.0, size=count))
    plans: list[PlannedIncident] = []
    for index, offset in enumerate(offsets.tolist()):
        if plans and rng.random() < recur_probability:
            earlier = plans[int(rng.integers(len(plans)))]
            kind, platform = earlier.kind, earlier.platform
        else:
            kind = kinds[int(rng.integers(len(kinds)))]
            platform = platforms[int(rng.integers(len(platforms)))]
            if CATALOGUE[kind].scope != "platform" and kind is not FaultKind.SLOW_QUERY:
                platform = None
        transient = rng.random() < transient_probability
        plans.append(
            PlannedIncident(
                index=index,
                at=start + timedelta(seconds=offset),
                kind=kind,
                platform=platform,
                severity=round(float(rng.uniform(0.3, 1.0)), 2),
                duration_s=float(rng.uniform(300.0, 2400.0)) if transient else None,
                explore=bool(rng.random() < explore_probability),
                seed=int(rng.integers(2**31)),
            )
        )
    return plans


def _detect(
    simulator: PlatformSimulator, series: SeriesLayout, baseline: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """Advance until detection; the snapshot row and its offset from the injection."""
    elapsed_s = 0.0
    while elapsed_s < MAX_DETECT_S:
        ends, rows = simulator.advance_recording(CHUNK_S)
        step = detection_step(series, baseline, rows)
        if step is not None:
            return rows[step], elapsed_s + float(ends[step] - ends[0]) + 30.0
        if not simulator.faults(active_only=True):
            return None  # ended by itself before anyone noticed
        elapsed_s += CHUNK_S
    return None


def _target(plan: PlannedIncident, record: IncidentRecord, names: Sequence[str]) -> str:
    if plan.platform is not None:
        return plan.platform
    strongest: dict[str, float] = {}
    for signal in record.signals:
        if signal.platform is not None:
            strongest[signal.platform] = max(strongest.get(signal.platform, 0), abs(signal.score))
    return max(sorted(strongest), key=lambda name: strongest[name]) if strongest else names[0]


def _respond(
    plan: PlannedIncident,
    simulator: PlatformSimulator,
    record: IncidentRecord,
    rng: np.random.Generator,
) -> tuple[list[RepairAttemptRecord], str | None, str]:
    """Try strategies until one works; returns attempts, the label and the final status."""
    ranking = rule_ranking(incident_features(record))
    if plan.explore:
        head = list(ranking[:4])
        rng.shuffle(head)
        ranking = head + ranking[4:]
    target = _target(plan, record, simulator.platform_names)
    attempts: list[RepairAttemptRecord] = []
    for strategy in ranking[:MAX_AUTOMATIC_ATTEMPTS]:
        simulator.advance(60.0)
        if not simulator.faults(active_only=True):
            return attempts, None, "resolved"  # recovered by itself: nothing learned
        result = simulator.apply_action(target, strategy)
        if not result.fixed:
            simulator.advance(VERIFY_S)
        # a transient fault that ends during verification looks fixed: false credit
        worked = result.fixed or not simulator.faults(active_only=True)
        attempts.append(_attempt(simulator, strategy, target, "Repair", worked))
        if worked:
            return attempts, strategy, "resolved"
    fix = CATALOGUE[plan.kind].fixing_actions[0].value
    simulator.advance(1800.0)  # a human investigates
    if not simulator.faults(active_only=True):
        return attempts, None, "escalated"
    result = simulator.apply_action(target, fix)
    attempts.append(_attempt(simulator, fix, target, "human", result.fixed))
    return attempts, fix if result.fixed else None, "escalated"


def _attempt(
    simulator: PlatformSimulator, strategy: str, target: str, approved_by: str, fixed: bool
) -> RepairAttemptRecord:
    return RepairAttemptRecord(
        ts=simulator.now(),
        strategy=strategy,
        action=strategy,
        target=target,
        approved_by=approved_by,
        outcome="worked" if fixed else "did_not_work",
        verified_at=simulator.now() + timedelta(seconds=VERIFY_S),
    )


def observed_series(series: SeriesLayout, rng: np.random.Generator) -> np.ndarray:
    """Which series the monitor actually has at the snapshot: whole collectors (one
    platform's app or host exporter, the PostgreSQL or Redis exporter) are missing with
    probability 0.15, single series with probability 0.1."""
    sources = [
        next((source for prefix, source in _SOURCES if name.startswith(prefix)), "app")
        + ":"
        + labels.get("platform", "")
        for name, labels in zip(series.names, series.labels, strict=True)
    ]
    missing = {
        source for source in sorted(set(sources)) if rng.random() < MISSING_COLLECTOR_PROBABILITY
    }
    single = rng.random(len(sources)) >= MISSING_SERIES_PROBABILITY
    return np.array([source not in missing for source in sources]) & single


def _config_change_age_s(simulator: PlatformSimulator, record: IncidentRecord) -> float | None:
    platforms = anomalous_platforms(record) or set(simulator.platform_names)
    ages = [
        (record.opened_at - change.ts).total_seconds()
        for change in simulator.config_changes()
        if change.platform in platforms and change.ts <= record.opened_at
    ]
    return min(ages, default=None)


def simulate_incident(plan: PlannedIncident) -> HistoryIncident | None:
    """Replay one planned fault (see the module docstring); ``None`` if nobody noticed it."""
    start = plan.at - timedelta(seconds=BASELINE_S)
    simulator = PlatformSimulator(seed=plan.seed, start=start)
    series = SeriesLayout(simulator.catalogue.names, simulator.catalogue.labels)
    _, baseline = simulator.advance_recording(BASELINE_S)
    simulator.inject(plan.kind, plan.platform, plan.severity, plan.duration_s)
    detected = _detect(simulator, series, baseline)
    if detected is None:
        return None
    row, detect_s = detected
    opened_at = plan.at + timedelta(seconds=detect_s)
    twin = PlatformSimulator(seed=plan.seed + 1, start=opened_at - timedelta(seconds=BASELINE_S))
    _, twin_rows = twin.advance_recording(BASELINE_S)
    scores = snapshot_scores(row, twin_rows[-1], baseline)
    rng = np.random.default_rng(plan.seed)
    seen = observed_series(series, rng)
    signals = snapshot_signals(series, np.where(seen, scores, 0.0).tolist())
    record = IncidentRecord(opened_at=opened_at, signals=signals)
    if rng.random() >= MISSING_DEPLOY_LOG_PROBABILITY:
        record = dataclasses.replace(
            record, config_change_age_s=_config_change_age_s(simulator, record)
        )
    attempts, label, status = _respond(plan, simulator, record, rng)
    critical = any(s.metric == "db_up" or abs(s.score) >= 40 for s in record.signals)
    return HistoryIncident(
        incident_id=f"sim-{plan.seed:010d}-{plan.index:05d}",
        started_at=plan.at,
        opened_at=opened_at,
        closed_at=simulator.now() + timedelta(seconds=VERIFY_S),
        platforms=tuple(sorted(anomalous_platforms(record))),
        severity="critical" if critical else "warning",
        status=status,
        root_cause=plan.kind.value,
        record=record,
        attempts=tuple(attempts),
        resolved_by=label,
        source="simulated",
    )


def with_recurrence(history: Sequence[HistoryIncident]) -> list[HistoryIncident]:
    """Fill signature, recurrence count and features, in ``opened_at`` order."""
    ordered = sorted(history, key=lambda item: item.opened_at)
    seen: dict[str, list[datetime]] = {}
    done: list[HistoryIncident] = []
    for item in ordered:
        signature = incident_signature(item.record)
        earlier = seen.setdefault(signature, [])
        similar = sum(1 for ts in earlier if item.opened_at - ts <= SIMILAR_WINDOW)
        record = dataclasses.replace(item.record, similar_incidents_7d=similar)
        features = incident_features(record)
        done.append(
            dataclasses.replace(item, record=record, signature=signature, features=features)
        )
        earlier.append(item.opened_at)
    return done


def generate_history(
    seed: int,
    count: int,
    start: datetime,
    days: float,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[HistoryIncident]:
    """Plan and replay ``count`` faults; the detected ones, in time order, with features."""
    plans = plan_incidents(seed, count, start, days)
    results: list[HistoryIncident | None] = []
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(simulate_incident, plans, chunksize=32):
                results.append(result)
                if progress is not None:
                    progress(1)
    else:
        for plan in plans:
            results.append(simulate_incident(plan))
            if progress is not None:
                progress(1)
    return with_recurrence([result for result in results if result is not None])


__all__ = [
    "STRATEGIES",
    "PlannedIncident",
    "generate_history",
    "plan_incidents",
    "simulate_incident",
    "with_recurrence",
]
