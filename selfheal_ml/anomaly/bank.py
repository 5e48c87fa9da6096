"""Per-series detector bank: one scoring pipeline per metric series, cloned from a prototype.

:class:`DetectorBank` is what the Predictive agent and the scoring API call. It is pure: no I/O,
no asyncio; the caller loads history and stores scores.

- ``score(series, ts, value)`` scores one point, decides, learns, returns a :class:`PointScore`.
- ``score_round(series, timestamps_s, values)`` does the same for a whole collection round given
  as columns: the verdicts and the state are those of ``score`` called point by point (a
  property test holds it to that), a refused point is a :class:`Rejected` instead of an error.
- ``replay(series, values, timestamps)`` re-warms a series from stored history after a restart
  through the detectors' vectorised batch path (``learn_many``), the last few hundred points
  through the exact online path.
- ``snapshot()`` / ``DetectorBank.from_snapshot()`` pickle the state with a version stamp. A
  snapshot is only a cache: on a version mismatch ``from_snapshot`` returns None and the caller
  re-warms from the data, which is the source of truth.

>>> from datetime import UTC, datetime, timedelta
>>> bank = DetectorBank()
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> bank.replay("api.latency_ms", [100.0 + i % 5 for i in range(1000)],
...             [start + timedelta(minutes=i) for i in range(1000)])
1000
>>> verdict = bank.score("api.latency_ms", start + timedelta(minutes=1000), 900.0)
>>> verdict.is_anomaly, verdict.expected_low < 103.0 < verdict.expected_high
(True, True)
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.level_guard import LevelGuard, LevelRule
from selfheal_ml.anomaly.registry import default_detector
from selfheal_ml.anomaly.scoring import PointScore, ScoringConfig, SeriesScorer
from selfheal_ml.errors import ValidationError
from selfheal_ml.metric_catalogue import GUARDED_LEVELS, ONLY_RISES_MATTER

SNAPSHOT_VERSION = 8  # 7: ColdStartScore.walk; 8: SeriesScorer.rises_only, the job-age guard
# 2: seasonal profiles that forget per bucket visit (new state); 3: hot-path caches in the
# seasonal profile and rolling median state (older snapshots lack them: re-warm instead);
# 4: the series scorer's cold-start stage; 5: the adaptive-resonance component (issue 15);
# 6: level guards on the catalogue's guarded gauges

TimestampLike = datetime | float | int | np.datetime64


@dataclass(frozen=True)
class Rejected:
    """A point the bank refused (late, duplicate or not finite): it was neither scored nor
    learned; ``reason`` is the validation message."""

    reason: str


def _not_finite(value: float) -> ValidationError:
    return ValidationError("value", f"expected a finite number, got {value!r}")


def _not_after(last_ts_s: float, ts_s: float) -> ValidationError:
    return ValidationError("ts", f"expected a time after {last_ts_s}, got {ts_s}")


def epoch_seconds(ts: TimestampLike) -> float:
    """Epoch seconds of a timezone-aware datetime, a datetime64 or a number of seconds.

    >>> from datetime import UTC, datetime
    >>> epoch_seconds(datetime(1970, 1, 2, tzinfo=UTC)), epoch_seconds(60)
    (86400.0, 60.0)
    """
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            raise ValidationError("ts", f"expected a timezone-aware datetime, got {ts!r}")
        return ts.timestamp()
    if isinstance(ts, np.datetime64):
        return float(ts.astype("datetime64[ms]").astype(np.int64)) / 1000.0
    return float(ts)


def as_epoch_seconds(
    timestamps: Sequence[TimestampLike] | npt.NDArray[np.generic],
) -> npt.NDArray[np.float64]:
    """Epoch seconds of many timestamps (datetime64 arrays converted without a Python loop).

    >>> as_epoch_seconds(np.array(["1970-01-01T00:01"], dtype="datetime64[m]")).tolist()
    [60.0]
    """
    if isinstance(timestamps, np.ndarray) and np.issubdtype(timestamps.dtype, np.datetime64):
        return timestamps.astype("datetime64[ms]").astype(np.int64) / 1000.0
    if isinstance(timestamps, np.ndarray) and np.issubdtype(timestamps.dtype, np.number):
        return timestamps.astype(np.float64)
    return np.array([epoch_seconds(ts) for ts in timestamps], dtype=np.float64)


class DetectorBank:
    """One :class:`SeriesScorer` per series, each with a clone of ``prototype``; a series of
    a guarded gauge (``guarded``: metric name -> direction and smallest move, by default the
    catalogue's :data:`~selfheal_ml.metric_catalogue.GUARDED_LEVELS`) also gets a level guard."""

    def __init__(
        self,
        prototype: Detector | Callable[[], Detector] | None = None,
        config: ScoringConfig | None = None,
        guarded: Mapping[str, tuple[int, float]] | None = None,
    ) -> None:
        self.prototype = prototype if prototype is not None else default_detector
        self.config = config or ScoringConfig()
        self.guarded = dict(GUARDED_LEVELS if guarded is None else guarded)
        self._scorers: dict[str, SeriesScorer] = {}

    def _guard(self, series: str) -> LevelGuard | None:
        """A level guard for ``series`` when its metric (the name before ``{``) is guarded."""
        rule = self.guarded.get(series.split("{", 1)[0])
        return None if rule is None else LevelGuard(LevelRule(*rule))

    def _new_detector(self) -> Detector:
        if isinstance(self.prototype, Detector):
            return self.prototype.clone()
        return self.prototype()

    def _scorer(self, series: str) -> SeriesScorer:
        scorer = self._scorers.get(series)
        if scorer is None:
            scorer = self._scorers[series] = SeriesScorer(
                self._new_detector(),
                self.config,
                self._guard(series),
                rises_only=series.split("{", 1)[0] in ONLY_RISES_MATTER,
            )
        return scorer

    def series(self) -> list[str]:
        """The series the bank holds state for."""
        return sorted(self._scorers)

    def forget(self, series: str) -> None:
        """Drop a series' state (it restarts from scratch on its next point)."""
        self._scorers.pop(series, None)

    def scorers(self, names: Iterable[str]) -> dict[str, SeriesScorer]:
        """The live scorers of ``names`` that the bank holds (not copies)."""
        return {name: self._scorers[name] for name in names if name in self._scorers}

    def take(self, names: Iterable[str]) -> dict[str, SeriesScorer]:
        """Remove ``names`` from the bank and return their scorers (to move them elsewhere)."""
        return {name: self._scorers.pop(name) for name in list(names) if name in self._scorers}

    def adopt(self, scorers: Mapping[str, SeriesScorer]) -> None:
        """Hold ``scorers`` (moved from another bank with the same prototype and config)."""
        self._scorers.update(scorers)

    def score(self, series: str, ts: TimestampLike, value: float) -> PointScore:
        """Score one point of ``series``, decide, then learn it (unless flagged)."""
        ts_s = ts if type(ts) is float else epoch_seconds(ts)  # seconds already: the hot path
        if not math.isfinite(value):
            raise _not_finite(value)
        scorer = self._scorer(series)
        if scorer.last_ts_s is not None and ts_s <= scorer.last_ts_s:
            raise _not_after(scorer.last_ts_s, ts_s)
        return scorer.process(ts_s, value)

    score_and_learn = score

    def score_round(
        self, series: Sequence[str], timestamps_s: Sequence[float], values: Sequence[float]
    ) -> list[PointScore | Rejected]:
        """Score a round given as three columns (series, epoch seconds, values), in order.

        Each point gets the verdict :meth:`score` gives it and leaves the same state, or a
        :class:`Rejected` where :meth:`score` would raise (a value that is not finite, a time
        not after the series' last: also a series named twice in one round at one time). The
        round's path is the agent's, once per collection round: one loop over the columns,
        with none of :meth:`score`'s per-call work (the conversion of the time, a method call
        and an exception frame per point, a tuple per point to unpack).
        """
        if not len(series) == len(timestamps_s) == len(values):
            raise ValidationError(
                "values", f"expected {len(series)} times and values, got"
                f" {len(timestamps_s)} and {len(values)}"
            )  # fmt: skip
        verdicts: list[PointScore | Rejected] = []
        add = verdicts.append
        scorers = self._scorers
        isfinite = math.isfinite
        for name, ts_s, value in zip(series, timestamps_s, values, strict=True):
            if not isfinite(value):
                add(Rejected(str(_not_finite(value))))
                continue
            scorer = scorers.get(name)
            if scorer is None:
                scorer = self._scorer(name)
            last_ts_s = scorer.last_ts_s
            if last_ts_s is not None and ts_s <= last_ts_s:
                add(Rejected(str(_not_after(last_ts_s, ts_s))))
                continue
            add(scorer.process(ts_s, value))
        return verdicts

    def replay(
        self,
        series: str,
        values: Sequence[float] | npt.NDArray[np.float64],
        timestamps: Sequence[TimestampLike] | npt.NDArray[np.generic],
    ) -> int:
        """Re-warm ``series`` from its stored history (oldest first); returns points learned.

        Non-finite values and points not after the previous one are skipped. See
        :meth:`SeriesScorer.replay` for how the batch path relates to online learning.
        """
        if len(values) != len(timestamps):
            raise ValidationError("timestamps", f"expected {len(values)}, got {len(timestamps)}")
        numbers = np.asarray(values, dtype=np.float64)
        seconds = as_epoch_seconds(timestamps)
        scorer = self._scorer(series)
        previous = -np.inf if scorer.last_ts_s is None else scorer.last_ts_s
        running_max = np.maximum.accumulate(np.concatenate([[previous], seconds]))[:-1]
        keep = np.isfinite(numbers) & np.isfinite(seconds) & (seconds > running_max)
        scorer.replay(seconds[keep], numbers[keep])
        return int(keep.sum())

    def snapshot(self) -> bytes:
        """The whole bank as bytes, stamped with :data:`SNAPSHOT_VERSION` (a cache, not truth)."""
        return pickle.dumps((SNAPSHOT_VERSION, self), protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def from_snapshot(blob: bytes) -> DetectorBank | None:
        """The bank in ``blob``, or None if it was written by another version (re-warm then)."""
        try:
            version, bank = pickle.loads(blob)
        except Exception:
            return None
        if version != SNAPSHOT_VERSION or not isinstance(bank, DetectorBank):
            return None
        return bank
