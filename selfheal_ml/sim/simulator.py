"""``PlatformSimulator``: five platforms in virtual time, with fault injection and repairs.

The simulator owns its virtual time. ``advance(seconds)`` integrates in steps of at most
``MAX_STEP_S`` (noise, campaigns, benign config changes, fault expiry, cumulative counters).
Steps between events (a fault or a repair's side effect starting or ending) are computed as
one numpy batch of up to ``MAX_BATCH_STEPS``; every random stream is drawn step-major, so one
long advance gives exactly what many short ones give. ``observe()`` is a pure snapshot of the
current frame, so calling it twice gives the same points. Same seed and same call sequence
give the same points; no I/O, no wall clock.

>>> from datetime import UTC, datetime
>>> sim = PlatformSimulator(seed=1, start=datetime(2026, 1, 5, 12, tzinfo=UTC))
>>> fault_id = sim.inject("service_crash", "tackle.io")
>>> sim.advance(60)
>>> sim.health("tackle.io"), sim.health("leadsite.ai")
('down', 'healthy')
>>> result = sim.apply_action("tackle.io", "restart_service")
>>> result.fixed, result.fault_ids == (fault_id,)
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from selfheal_ml.changes import ConfigChange
from selfheal_ml.errors import ValidationError
from selfheal_ml.events import HealthStatus, MetricPoint
from selfheal_ml.metric_catalogue import DEFAULT_LIMITS
from selfheal_ml.sim import exposition
from selfheal_ml.sim.catalogue import (
    CATALOGUE,
    ActionResult,
    Campaign,
    FaultKind,
    FaultRecord,
    RepairAction,
)
from selfheal_ml.sim.drivers import CampaignState, NoiseState
from selfheal_ml.sim.dynamics import Drivers, Frame, Layout, compute_frame, seasonal_factor
from selfheal_ml.sim.effects import EFFECTS, ActiveFault, Blip, Effects, FloatArray
from selfheal_ml.sim.observation import SeriesCatalogue, dependencies_moved
from selfheal_ml.sim.platforms import DEFAULT_PLATFORMS, PlatformSpec
from selfheal_ml.sim.repairs import SCALE_OUT_FACTOR, SCALE_OUT_HOLD_S, action_cost

MAX_STEP_S = 30.0
MAX_BATCH_STEPS = 240
CONFIG_CHANGE_RATE_PER_S = 3.0 / 86400.0
BENIGN_CHANGES = (
    "feature flag new_dashboard enabled",
    "worker count raised from 8 to 10",
    "log level set to info",
    "rate limit raised to 120 req/min",
    "TLS certificate renewed",
)


def _median(values: list[float]) -> float:
    """``np.median`` of a few numbers, without its array machinery (a probe asks for it
    every round): the middle one, or the mean of the middle two; NaN if any is NaN.

    >>> _median([3.0, 1.0, 2.0]), _median([4.0, 1.0, 2.0, 3.0]), _median([1.0, math.nan])
    (2.0, 2.5, nan)
    """
    if any(math.isnan(value) for value in values):
        return math.nan
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def _choice(value: str, options: Sequence[str], field: str) -> str:
    if value not in options:
        raise ValidationError(field, f"expected one of {sorted(options)}, got {value!r}")
    return value


class PlatformSimulator:
    """The simulated platforms; see the package docstring for the series catalogue."""

    def __init__(
        self,
        seed: int,
        start: datetime,
        platforms: Sequence[PlatformSpec] = DEFAULT_PLATFORMS,
    ) -> None:
        if start.tzinfo is None:
            raise ValidationError("start", f"expected a timezone-aware datetime, got {start!r}")
        self.seed = seed
        self.start = start
        self.layout = Layout.of(tuple(platforms))
        self.catalogue = SeriesCatalogue.of(self.layout)
        self.platform_names = tuple(spec.name for spec in self.layout.platforms)
        noise_seed, campaign_seed, change_seed = np.random.SeedSequence(seed).spawn(3)
        self._noise_rng = np.random.default_rng(noise_seed)
        self._campaign_rng = np.random.default_rng(campaign_seed)
        self._change_rng = np.random.default_rng(change_seed)
        count = self.layout.platform_count
        self._noise = NoiseState(self._noise_rng, count, self.layout.endpoint_count)
        self._campaigns = CampaignState.empty(count)
        self._scale_outs: list[tuple[int, float, float]] = []  # platform, from_s, until_s
        self._elapsed_s = 0.0
        self._faults: list[ActiveFault] = []
        self._blips: list[Blip] = []
        self._changes: list[ConfigChange] = []
        self._counters = exposition.Counters.zeros(self.layout)
        self._frame = self._refresh()
        self._row_of: Frame | None = None  # the frame ``_row`` is the current instant of
        self._row = self._frame

    # ---- time -------------------------------------------------------------------------
    def now(self) -> datetime:
        """The simulator's virtual time."""
        return self.start + timedelta(seconds=self._elapsed_s)

    @property
    def elapsed_s(self) -> float:
        """Seconds since ``start``."""
        return self._elapsed_s

    def advance(self, seconds: float) -> None:
        """Integrate ``seconds`` of virtual time (in steps of at most ``MAX_STEP_S``)."""
        self._integrate(seconds, record=False)

    def advance_recording(self, seconds: float) -> tuple[FloatArray, FloatArray]:
        """Like :meth:`advance`, and return every step's end (seconds since start, (T,)) and
        every series at each step ((T, series), columns in ``catalogue.keys`` order)."""
        return self._integrate(seconds, record=True)

    def _integrate(self, seconds: float, record: bool) -> tuple[FloatArray, FloatArray]:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValidationError("seconds", f"expected a finite number >= 0, got {seconds!r}")
        whole, rest = divmod(seconds, MAX_STEP_S)
        dts = np.full(int(whole), MAX_STEP_S)
        if rest > 1e-9:
            dts = np.append(dts, rest)
        offsets: list[FloatArray] = [np.zeros(0)]
        rows: list[FloatArray] = [np.zeros((0, len(self.catalogue.keys)))]
        done = 0
        while done < dts.size:
            self._expire(self._elapsed_s + float(dts[done]))
            ends = self._elapsed_s + np.cumsum(dts[done : done + MAX_BATCH_STEPS])
            count = max(1, int(np.searchsorted(ends, self._next_event_s(), side="left")))
            frames = self._step_batch(dts[done : done + count])
            if record:
                offsets.append(ends[:count])
                rows.append(self.catalogue.values(frames))
            done += count
        return np.concatenate(offsets), np.concatenate(rows)

    def _expire(self, t_s: float) -> None:
        """End faults whose duration is over by ``t_s`` and drop finished blips."""
        for fault in self._faults:
            expired = fault.expires_s is not None and fault.expires_s <= t_s
            if fault.resolved_s is None and expired:
                fault.resolved_s, fault.resolved_by = fault.expires_s, "expired"
        self._blips = [blip for blip in self._blips if blip.until_s > t_s]

    def _next_event_s(self) -> float:
        """When the set of active faults or blips next changes (a batch must not span it)."""
        times = [blip.until_s for blip in self._blips]
        times += [
            fault.expires_s
            for fault in self._faults
            if fault.resolved_s is None and fault.expires_s is not None
        ]
        return min(times, default=math.inf)

    def _step_batch(self, dts_s: FloatArray) -> Frame:
        """Integrate consecutive steps during which no fault or blip starts or ends."""
        ends = self._elapsed_s + np.cumsum(dts_s)
        begins = ends - dts_s
        noise = self._noise.steps(self._noise_rng, dts_s)
        self._campaigns.steps(self._campaign_rng, begins, dts_s)
        draws = self._change_rng.random((dts_s.size, 3))  # one draw: step-major stream
        for step in np.flatnonzero(draws[:, 0] < CONFIG_CHANGE_RATE_PER_S * dts_s).tolist():
            platform = int(draws[step, 1] * self.layout.platform_count)
            text = BENIGN_CHANGES[int(draws[step, 2] * len(BENIGN_CHANGES))]
            self._record_change(platform, text, at_s=float(ends[step]))
        self._elapsed_s = float(ends[-1])
        frames = self._compute(ends, noise)
        self._counters.accumulate(frames, dts_s)
        self._frame = frames.last()
        return frames

    def _capacity_mult(self, times_s: FloatArray) -> FloatArray:
        """Capacity over the base per platform at each time, (T, P): x``SCALE_OUT_FACTOR``
        for every scale-out still held then (expired ones are dropped)."""
        mult = np.ones((times_s.size, self.layout.platform_count))
        self._scale_outs = [held for held in self._scale_outs if held[2] > times_s[0]]
        for index, from_s, until_s in self._scale_outs:
            held = (times_s >= from_s) & (times_s < until_s)
            mult[held, index] *= SCALE_OUT_FACTOR
        return mult

    def _refresh(self) -> Frame:
        """Recompute the current frame after a change that takes no time (inject, repair)."""
        return self._compute(np.array([self._elapsed_s]), self._noise.current())

    def _compute(self, times_s: FloatArray, noise: FloatArray) -> Frame:
        traffic, latency, host, hit = self._noise.split(noise)
        hour = self.start.hour + self.start.minute / 60.0 + self.start.second / 3600.0
        drivers = Drivers(
            season=seasonal_factor(times_s, self.start.weekday(), hour)[:, None],
            campaign=self._campaigns.factor(times_s),
            capacity_mult=self._capacity_mult(times_s),
            traffic_noise=traffic,
            latency_noise=latency,
            host_noise=host,
            hit_noise=hit,
            elapsed_s=times_s[:, None],
        )
        layout = self.layout
        effects = Effects.neutral(layout.platform_count, layout.endpoint_count, times_s.size)
        for fault in self._faults:
            if fault.resolved_s is None:
                age_s = times_s[:, None] - fault.injected_s
                EFFECTS[fault.kind](effects, layout.masks, fault, age_s)
        for blip in self._blips:
            blip.apply(effects, layout.masks)
        return compute_frame(layout, drivers, effects)

    # ---- observation ------------------------------------------------------------------
    def observe(self) -> list[MetricPoint]:
        """Every series at ``now()`` (see the package docstring for the catalogue)."""
        return self.catalogue.points(self._frame, self.now())

    def values(self) -> FloatArray:
        """Every series at ``now()`` as one vector in ``catalogue.keys`` order (fast path)."""
        current: FloatArray = self.catalogue.values(self._frame)[0]
        return current

    @property
    def frame(self) -> Frame:
        """The current frame, one instant (read-only by convention). Built once per frame:
        a round of probes and scrapes reads it seventeen times between two steps."""
        if self._row_of is not self._frame:
            self._row, self._row_of = self._frame.row(0), self._frame
        return self._row

    def prometheus_text(self, platform: str | None = None) -> str:
        """Text exposition 0.0.4 of one platform, without the shared dependencies (they have
        their own page, :meth:`dependency_text`); with no platform, of every platform and
        every dependency."""
        if platform is None:
            selected = list(range(self.layout.platform_count))
            return exposition.render(
                self.layout, self.frame, self._counters, selected, exposition.DEPENDENCIES
            )
        selected = [self._platform_index(platform)]
        return exposition.render(self.layout, self.frame, self._counters, selected)

    def dependency_text(self, dependency: str) -> str:
        """Text exposition 0.0.4 of one shared dependency (``postgres`` or ``redis``), as
        its exporter would serve it: its gauges, labelled ``dependency``."""
        _choice(dependency, exposition.DEPENDENCIES, "dependency")
        return exposition.render(self.layout, self.frame, self._counters, [], (dependency,))

    def response_time_ms(self, platform: str) -> float:
        """How long a request to ``platform`` takes now: the median over its endpoints of
        their median latency (what a health probe of the platform would measure)."""
        endpoints = self.layout.masks.of(self._platform_index(platform))
        return _median(self.frame.p50_ms[endpoints].tolist())

    def health(self, platform: str) -> HealthStatus:
        """``down`` if most requests fail, ``degraded`` on any breach of the catalogue's
        threshold limits (:data:`selfheal_ml.metric_catalogue.DEFAULT_LIMITS`), else healthy."""
        index = self._platform_index(platform)
        frame = self.frame
        endpoints = self.layout.masks.of(index)
        limits = DEFAULT_LIMITS
        if frame.platform_error5[index] >= limits.down_error_rate:
            return "down"
        auth_failures = frame.auth_failures[index]
        breaches = (
            frame.platform_error5[index] >= limits.error_rate,
            float(np.max(frame.p95_ms[endpoints])) >= limits.response_time_ms,
            frame.cpu[index] >= limits.cpu_percent,
            frame.memory[index] >= limits.memory_percent,
            frame.disk[index] >= limits.disk_percent,
            frame.job_age_s[index] >= limits.job_silence_s,
            auth_failures >= limits.auth_failures_per_s
            and auth_failures > limits.auth_failure_ratio * frame.auth_attempts[index],
        )
        return "degraded" if any(breaches) else "healthy"

    # ---- ground truth -----------------------------------------------------------------
    def faults(self, active_only: bool = False) -> list[FaultRecord]:
        """Ground truth about injected faults, oldest first."""
        records = [self._record(fault) for fault in self._faults]
        return [record for record in records if record.active or not active_only]

    def config_changes(self) -> list[ConfigChange]:
        """The deploy log: benign changes, bad pushes and rollbacks, oldest first."""
        return list(self._changes)

    def campaigns(self) -> list[Campaign]:
        """Benign traffic spikes so far (ground truth for false-positive analysis)."""
        return [
            Campaign(self.platform_names[index], self._at(start_s), self._at(end_s), multiplier)
            for index, start_s, end_s, multiplier in self._campaigns.history
        ]

    # ---- faults and repairs -----------------------------------------------------------
    def inject(
        self,
        kind: FaultKind | str,
        platform: str | None,
        severity: float = 1.0,
        duration_s: float | None = None,
    ) -> str:
        """Start a fault now; returns its id. Dependency faults may omit ``platform``."""
        fault_kind = FaultKind(_choice(str(kind), [k.value for k in FaultKind], "kind"))
        spec = CATALOGUE[fault_kind]
        origin = None if platform is None else self._platform_index(platform)
        if origin is None and spec.scope == "platform":
            raise ValidationError("platform", f"required for a fault of kind {fault_kind.value}")
        if not 0.0 < severity <= 1.0:
            raise ValidationError("severity", f"expected 0 < severity <= 1, got {severity!r}")
        if duration_s is not None and not duration_s > 0.0:
            raise ValidationError("duration_s", f"expected > 0 or None, got {duration_s!r}")
        everyone = tuple(range(self.layout.platform_count))
        fault = ActiveFault(
            fault_id=f"fault-{len(self._faults) + 1:04d}",
            kind=fault_kind,
            origin=origin,
            affected=(origin,) if origin is not None and spec.scope == "platform" else everyone,
            severity=severity,
            injected_s=self._elapsed_s,
            expires_s=None if duration_s is None else self._elapsed_s + duration_s,
        )
        self._describe(fault)
        self._faults.append(fault)
        self._frame = self._refresh()
        return fault.fault_id

    def _describe(self, fault: ActiveFault) -> None:
        number = len(self._faults) + 1
        if fault.kind is FaultKind.BRUTE_FORCE_LOGIN:
            fault.details["source_ip"] = f"203.0.113.{number % 250 + 1}"
        elif fault.kind is FaultKind.SLOW_QUERY:
            table = "events"
            if fault.origin is not None:
                table = self.layout.platforms[fault.origin].endpoints[0].path.rsplit("/", 1)[-1]
            fault.details["query"] = f"SELECT * FROM {table} WHERE owner_id = $1 (index dropped)"
        elif fault.kind is FaultKind.BAD_CONFIG_PUSH and fault.origin is not None:
            change = self._record_change(
                fault.origin, f"config push v{100 + number}: pool and timeouts"
            )
            fault.details["config_change_id"] = change.change_id

    def apply_action(self, platform: str, action: str) -> ActionResult:
        """Run a repair action on ``platform``: ends the faults it fixes there, and costs."""
        index = self._platform_index(platform)
        repair = RepairAction(_choice(str(action), [a.value for a in RepairAction], "action"))
        fixed = [
            fault
            for fault in self._faults
            if fault.resolved_s is None
            and index in fault.affected
            and repair in CATALOGUE[fault.kind].fixing_actions
        ]
        for fault in fixed:
            fault.resolved_s, fault.resolved_by = self._elapsed_s, repair.value
        blip, cost = action_cost(repair, index, self._elapsed_s, fixed=bool(fixed))
        if blip is not None:
            self._blips.append(blip)
        if repair is RepairAction.RESTART_SERVICE:
            self._counters.reset(self.layout, index)
        elif repair is RepairAction.SCALE_OUT:
            until_s = self._elapsed_s + SCALE_OUT_HOLD_S
            self._scale_outs.append((index, self._elapsed_s, until_s))
        elif repair is RepairAction.ROLLBACK_CONFIG:
            self._record_change(index, "rollback to the previous configuration", rollback=True)
        self._frame = self._refresh()
        ids = tuple(fault.fault_id for fault in fixed)
        return ActionResult(repair, platform, fixed=bool(fixed), fault_ids=ids, cost=cost)

    # ---- internals --------------------------------------------------------------------
    def _platform_index(self, platform: str) -> int:
        return self.platform_names.index(_choice(platform, self.platform_names, "platform"))

    def _at(self, t_s: float) -> datetime:
        return self.start + timedelta(seconds=t_s)

    def _record_change(
        self, platform: int, description: str, at_s: float | None = None, rollback: bool = False
    ) -> ConfigChange:
        change = ConfigChange(
            change_id=f"change-{len(self._changes) + 1:04d}",
            ts=self._at(self._elapsed_s if at_s is None else at_s),
            platform=self.platform_names[platform],
            description=description,
            rollback=rollback,
        )
        self._changes.append(change)
        return change

    def _record(self, fault: ActiveFault) -> FaultRecord:
        spec = CATALOGUE[fault.kind]
        return FaultRecord(
            fault_id=fault.fault_id,
            kind=fault.kind,
            platform=None if fault.origin is None else self.platform_names[fault.origin],
            platforms=tuple(self.platform_names[index] for index in fault.affected),
            severity=fault.severity,
            injected_at=self._at(fault.injected_s),
            expires_at=None if fault.expires_s is None else self._at(fault.expires_s),
            resolved_at=None if fault.resolved_s is None else self._at(fault.resolved_s),
            resolved_by=fault.resolved_by,
            symptoms=spec.symptoms,
            fixing_actions=spec.fixing_actions,
            details=tuple(sorted(fault.details.items())),
            dependencies=dependencies_moved(spec.symptoms),
        )
