"""Reproducible fault schedules and virtual-time runs over them.

``FaultSchedule.random`` spreads ``n_faults`` injections over ``days``: a fault-free warm-up
first (detectors need normal history), then one fault per equal slot, starting in the first
40 % of its slot and lasting at most half of it, so every fault is followed by a fault-free
stretch. Some faults recur: with ``recur_probability`` a fault repeats the kind and platform of
an earlier one. ``run_schedule`` steps a simulator through a schedule and records every 30 s step of
every series.

>>> schedule = FaultSchedule.random(seed=7, days=2, n_faults=3)
>>> len(schedule.faults), schedule == FaultSchedule.random(seed=7, days=2, n_faults=3)
(3, True)
>>> all(a.at_s + a.duration_s < b.at_s for a, b in zip(schedule.faults, schedule.faults[1:]))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from selfheal_ml.errors import ValidationError
from selfheal_ml.sim.catalogue import CATALOGUE, FaultKind, FaultRecord
from selfheal_ml.sim.effects import FloatArray
from selfheal_ml.sim.platforms import DEFAULT_PLATFORMS
from selfheal_ml.sim.simulator import MAX_STEP_S as STEP_S
from selfheal_ml.sim.simulator import PlatformSimulator

DAY_S = 86400.0
MIN_SLOT_S = 2 * 3600.0
SEVERITY_RANGE = (0.6, 1.0)  # each fault's severity is uniform over this


@dataclass(frozen=True)
class ScheduledFault:
    """One planned injection, ``at_s`` seconds after the run starts."""

    at_s: float
    kind: FaultKind
    platform: str | None
    severity: float
    duration_s: float


@dataclass(frozen=True)
class FaultSchedule:
    """Planned injections, in time order."""

    faults: tuple[ScheduledFault, ...]

    @classmethod
    def random(
        cls,
        seed: int,
        days: float,
        n_faults: int,
        kinds: Sequence[FaultKind | str] = tuple(FaultKind),
        platforms: Sequence[str] = tuple(spec.name for spec in DEFAULT_PLATFORMS),
        recur_probability: float = 0.25,
    ) -> FaultSchedule:
        """A reproducible schedule for ``seed`` (see the module docstring)."""
        known = {kind.value for kind in FaultKind}
        unknown = sorted(str(kind) for kind in kinds if str(kind) not in known)
        if unknown:
            raise ValidationError(
                "kinds",
                f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            )
        chosen = [FaultKind(kind) for kind in kinds]
        if days <= 0:
            raise ValidationError("days", f"expected > 0, got {days!r}")
        if n_faults < 0:
            raise ValidationError("n_faults", f"expected >= 0, got {n_faults!r}")
        if n_faults and not chosen:
            raise ValidationError("kinds", "expected at least one fault kind")
        warmup_s = min(DAY_S, 0.2 * days * DAY_S)
        slot_s = (days * DAY_S - warmup_s) / max(n_faults, 1)
        if n_faults and slot_s < MIN_SLOT_S:
            raise ValidationError("n_faults", f"too many for {days} days (at most one per 2 h)")
        rng = np.random.default_rng(seed)
        faults: list[ScheduledFault] = []
        for slot in range(n_faults):
            if faults and rng.random() < recur_probability:
                earlier = faults[int(rng.integers(len(faults)))]
                kind, platform = earlier.kind, earlier.platform
            else:
                kind = chosen[int(rng.integers(len(chosen)))]
                platform = str(platforms[int(rng.integers(len(platforms)))])
                if CATALOGUE[kind].scope != "platform" and kind is not FaultKind.SLOW_QUERY:
                    platform = None
            start_s = warmup_s + slot * slot_s + rng.uniform(0.0, 0.4 * slot_s)
            duration_s = rng.uniform(0.25, 0.5) * slot_s
            severity = round(float(rng.uniform(*SEVERITY_RANGE)), 2)
            faults.append(ScheduledFault(start_s, kind, platform, severity, duration_s))
        return cls(tuple(faults))


@dataclass(frozen=True)
class SimulationRun:
    """What a run recorded: one row of ``values`` per step, columns in ``keys`` order."""

    start: datetime
    offsets_s: FloatArray
    keys: tuple[str, ...]
    values: FloatArray
    faults: tuple[FaultRecord, ...]

    def timestamps(self) -> list[datetime]:
        """The time of each row."""
        return [self.start + timedelta(seconds=float(offset)) for offset in self.offsets_s]

    def long_frame(self) -> pd.DataFrame:
        """The values in long format (``series``, ``ts``, ``value``), as MetricsStore takes them."""
        steps, series = self.values.shape
        ts = pd.Timestamp(self.start) + pd.to_timedelta(self.offsets_s, unit="s")
        return pd.DataFrame(
            {
                "series": np.tile(np.array(self.keys, dtype=object), steps),
                "ts": np.repeat(ts.to_numpy(), series),
                "value": self.values.reshape(-1),
            }
        )


def _horizon_s(limit_s: float, done_s: float, pending: list[ScheduledFault]) -> float:
    """How far to advance next: ``limit_s``, or less to stop at the step boundary at or after
    the next injection."""
    if not pending:
        return limit_s
    gap_s = pending[0].at_s - done_s
    return min(limit_s, max(STEP_S, STEP_S * math.ceil(gap_s / STEP_S)))


def run_schedule(
    simulator: PlatformSimulator,
    schedule: FaultSchedule,
    duration_s: float,
    chunk_s: float = 3600.0,
    on_chunk: Callable[[PlatformSimulator], None] | None = None,
    record: bool = True,
) -> SimulationRun:
    """Advance ``simulator`` by ``duration_s``, injecting as scheduled, recording every step.

    Offsets in the schedule count from the simulator's time when the run starts; each fault
    is injected at the first step boundary at or after its time. The simulator advances in
    chunks of at most ``chunk_s`` (and up to the next injection), vectorised inside a chunk;
    ``on_chunk`` is called after each (a progress bar). With ``record=False`` the returned run
    has no values (saves memory on long runs). For agents that must see every 30 s step,
    call ``advance``/``observe`` yourself instead.
    """
    if chunk_s <= 0:
        raise ValidationError("chunk_s", f"expected > 0, got {chunk_s!r}")
    origin_s = simulator.elapsed_s
    pending = list(schedule.faults)
    rows: list[FloatArray] = [np.zeros((0, len(simulator.catalogue.keys)))]
    offsets: list[FloatArray] = [np.zeros(0)]
    while (done_s := simulator.elapsed_s - origin_s) < duration_s - 1e-9:
        while pending and pending[0].at_s <= done_s + 1e-9:
            due = pending.pop(0)
            simulator.inject(due.kind, due.platform, due.severity, due.duration_s)
        horizon_s = _horizon_s(min(chunk_s, duration_s - done_s), done_s, pending)
        if record:
            ends, values = simulator.advance_recording(horizon_s)
            offsets.append(ends)
            rows.append(values)
        else:
            simulator.advance(horizon_s)
        if on_chunk is not None:
            on_chunk(simulator)
    return SimulationRun(
        start=simulator.start,
        offsets_s=np.concatenate(offsets),
        keys=simulator.catalogue.keys,
        values=np.concatenate(rows),
        faults=tuple(simulator.faults()),
    )
