"""Score a round of many series on more than one core: the detector bank split across processes.

Every collection round the Predictive agent scores each series once (158 of them in the demo),
and each series' scorer is independent of every other, so the series can be shared out:
:class:`ShardedBank` keeps one share in this process and hands the others to worker processes,
each holding an ordinary :class:`DetectorBank` for its share. A round sends every worker its
points, scores the local share meanwhile, then collects the workers' verdicts. The verdicts are
the ones a single bank gives, bit for bit: each series runs the same code on the same points in
the same order, only somewhere else. A series always lives in the same shard (a CRC-32 of its
name), so its state never moves.

Scoring is the largest single part of a demo round; with one worker the 7-day demo runs 1.21x
faster on a 2-core machine (``tests/benchmarks/test_demo_speed.py``, ``docs/benchmarks.md``).
``workers=0`` keeps everything in this process (the service's default: one process, less
memory).

By default every shard gets an equal share. ``local_share`` keeps a smaller one here, the
rest spread over the workers (:func:`placement`): this process also runs the collectors, the
bus and the stores, so with equal shares a worker sat idle half of each round waiting for the
next while this process was the bottleneck. Where a series lives never changes its verdicts.

Workers start with the ``spawn`` method: the service has DuckDB and asyncio threads, and
forking a process with threads is unsafe. A worker that dies is noticed on the next call
(:class:`ScoringWorkerLostError`); :meth:`ShardedBank.revive` forgets it (a fresh, empty one
starts on the next call), and the caller re-warms its series from stored history, which is the
source of truth.

>>> import numpy as np
>>> bank = ShardedBank(workers=0)
>>> bank.replay_many({"api.latency_ms": (np.full(500, 100.0), np.arange(500) * 60.0)})
500
>>> [verdict.is_anomaly for verdict in bank.score_round([("api.latency_ms", 30_000.0, 900.0)])]
[True]
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import pickle
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.bank import DetectorBank, Rejected
from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.scoring import PointScore, ScoringConfig
from selfheal_ml.errors import ValidationError

Params = ParamSpec("Params")
Result = TypeVar("Result")

RoundPoint = tuple[str, float, float]
"""(series, epoch seconds, value): one point of a round."""

History = tuple[npt.NDArray[np.float64], npt.NDArray[Any]]
"""(values, timestamps) of one series, oldest first, as :meth:`DetectorBank.replay` takes them."""


class ScoringWorkerLostError(RuntimeError):
    """A scoring worker process stopped; its share of the series must be re-warmed."""


def shard_of(series: str, shards: int) -> int:
    """The shard that owns ``series`` (0 is this process): stable across runs and machines.

    >>> shard_of("api.latency_ms", 1), shard_of("api.latency_ms", 2) in (0, 1)
    (0, True)
    """
    return zlib.crc32(series.encode()) % shards


#: Resolution of ``local_share``: series are placed by their CRC-32 modulo this.
PLACEMENT_BUCKETS = 10_000


def placement(series: str, shards: int, local_share: float | None = None) -> int:
    """The shard of ``series`` in a bank of ``shards``: :func:`shard_of` when ``local_share``
    is None, else shard 0 (this process) for about ``local_share`` of the series and one of
    the workers, evenly, for the rest. Stable across runs and machines.

    >>> placement("api.latency_ms", 2) == shard_of("api.latency_ms", 2)
    True
    >>> names = [f"series-{index}" for index in range(1000)]
    >>> sum(placement(name, 2, 0.25) == 0 for name in names)
    273
    >>> {placement(name, 3, 0.0) for name in names}
    {1, 2}
    """
    if local_share is None or shards == 1:
        return shard_of(series, shards)
    checksum = zlib.crc32(series.encode())
    if checksum % PLACEMENT_BUCKETS < local_share * PLACEMENT_BUCKETS:
        return 0
    return 1 + (checksum // PLACEMENT_BUCKETS) % (shards - 1)


Columns = tuple[list[str], list[float], list[float]]
"""A round as columns: series, epoch seconds, values (:meth:`DetectorBank.score_round`)."""


def columns_of(points: Sequence[RoundPoint]) -> Columns:
    """``points`` as the three columns :meth:`DetectorBank.score_round` takes."""
    return [p[0] for p in points], [p[1] for p in points], [p[2] for p in points]


def replay_histories(bank: DetectorBank, histories: Mapping[str, History]) -> int:
    """Re-warm every series in ``histories``; returns the points learned."""
    return sum(bank.replay(name, values, stamps) for name, (values, stamps) in histories.items())


def _serve(connection: Connection) -> None:
    """A worker's loop: one bank, one request at a time, until ``stop`` or a closed pipe."""
    bank: DetectorBank = pickle.loads(connection.recv_bytes())
    handlers: dict[str, Callable[[Any], object]] = {
        "score": lambda columns: bank.score_round(*columns),
        "replay": lambda histories: replay_histories(bank, histories),
        "series": lambda _: bank.series(),
        "export": lambda names: bank.scorers(names),
    }
    while True:
        try:
            command, payload = connection.recv()
        except EOFError:
            return
        if command == "stop":
            return
        try:
            connection.send(("ok", handlers[command](payload)))
        except Exception as exc:  # the caller raises it; the worker keeps its state and serves on
            connection.send(("error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, template: DetectorBank) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child,), name="selfheal-scoring", daemon=True
        )
        self.process.start()
        child.close()
        self.connection.send_bytes(pickle.dumps(template, protocol=pickle.HIGHEST_PROTOCOL))

    def send(self, command: str, payload: object = None) -> None:
        try:
            self.connection.send((command, payload))
        except (OSError, EOFError) as exc:
            raise ScoringWorkerLostError(f"scoring worker stopped: {exc!r}") from exc

    def receive(self) -> Any:
        try:
            status, answer = self.connection.recv()
        except (OSError, EOFError) as exc:
            raise ScoringWorkerLostError(f"scoring worker stopped: {exc!r}") from exc
        if status == "error":
            raise RuntimeError(f"scoring worker failed: {answer}")
        return answer

    def ask(self, command: str, payload: object = None) -> Any:
        self.send(command, payload)
        return self.receive()

    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):  # already gone: nothing to tell it
            self.connection.send(("stop", None))
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


def _exclusive(
    method: Callable[Concatenate[ShardedBank, Params], Result],
) -> Callable[Concatenate[ShardedBank, Params], Result]:
    """One conversation with the workers at a time: a pipe carries one request and its answer,
    and the agent's round and an API what-if copy may come from different threads."""

    @functools.wraps(method)
    def locked(bank: ShardedBank, /, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        with bank._lock:
            return method(bank, *args, **kwargs)

    return locked


class ShardedBank:
    """A :class:`DetectorBank` whose series are shared out over this process and ``workers``
    worker processes. Call :meth:`close` when done (the workers are daemons: they also end
    with this process). Safe to call from several threads (one call at a time). ``local_share``
    (0 to 1): the share of the series scored in this process (default: an equal share)."""

    def __init__(
        self,
        workers: int = 0,
        prototype: Detector | Callable[[], Detector] | None = None,
        config: ScoringConfig | None = None,
        *,
        local: DetectorBank | None = None,
        local_share: float | None = None,
    ) -> None:
        if workers < 0:
            raise ValidationError("workers", f"expected a number >= 0, got {workers}")
        if local_share is not None and not 0.0 <= local_share <= 1.0:
            raise ValidationError("local_share", f"expected 0 to 1, got {local_share!r}")
        self.local_share = local_share
        self.local = local if local is not None else DetectorBank(prototype, config)
        self._template = DetectorBank(self.local.prototype, self.local.config, self.local.guarded)
        self._workers: list[_Worker | None] = [None] * workers
        self._lock = threading.RLock()
        if workers:
            self._move_remote_series()

    @property
    def shards(self) -> int:
        """This process plus the workers."""
        return 1 + len(self._workers)

    def _worker(self, shard: int) -> _Worker:
        worker = self._workers[shard - 1]
        if worker is None:
            worker = self._workers[shard - 1] = _Worker(self._template)
        return worker

    def _move_remote_series(self) -> None:
        """Hand the series a restored bank holds for other shards to their workers."""
        for shard in range(1, self.shards):
            names = [name for name in self.local.series() if self._shard(name) == shard]
            if names:
                share = DetectorBank(self.local.prototype, self.local.config, self.local.guarded)
                share.adopt(self.local.take(names))
                self._workers[shard - 1] = _Worker(share)

    def _shard(self, series: str) -> int:
        return placement(series, self.shards, self.local_share)

    # ---- the DetectorBank operations, spread over the shards --------------------------------
    def score_round(self, points: Sequence[RoundPoint]) -> list[PointScore | Rejected]:
        """Score a round of ``(series, epoch seconds, value)`` points: :meth:`score_columns`."""
        return self.score_columns(*columns_of(points))

    @_exclusive
    def score_columns(
        self, series: Sequence[str], timestamps_s: Sequence[float], values: Sequence[float]
    ) -> list[PointScore | Rejected]:
        """Score a round given as columns (each point as :meth:`DetectorBank.score` would, see
        :meth:`DetectorBank.score_round`), in parallel across the shards; verdicts come back
        in the order of the points."""
        if not self._workers:
            return self.local.score_round(series, timestamps_s, values)
        shares: list[list[int]] = [[] for _ in range(self.shards)]
        for position, name in enumerate(series):
            shares[self._shard(name)].append(position)

        def share(positions: list[int]) -> Columns:
            return (
                [series[p] for p in positions],
                [timestamps_s[p] for p in positions],
                [values[p] for p in positions],
            )

        asked = [s for s in range(1, self.shards) if shares[s]]
        for shard in asked:
            self._worker(shard).send("score", share(shares[shard]))
        verdicts: list[PointScore | Rejected | None] = [None] * len(series)
        local = self.local.score_round(*share(shares[0]))
        for position, verdict in zip(shares[0], local, strict=True):
            verdicts[position] = verdict
        for shard in asked:
            answers = self._worker(shard).receive()
            for position, verdict in zip(shares[shard], answers, strict=True):
                verdicts[position] = verdict
        return [verdict for verdict in verdicts if verdict is not None]

    @_exclusive
    def replay_many(self, histories: Mapping[str, History]) -> int:
        """Re-warm many series from stored history, every shard at once; returns points learned."""
        shares: list[dict[str, History]] = [{} for _ in range(self.shards)]
        for name, history in histories.items():
            shares[self._shard(name)][name] = history
        asked = [s for s in range(1, self.shards) if shares[s]]
        for shard in asked:
            self._worker(shard).send("replay", shares[shard])
        learned = replay_histories(self.local, shares[0])
        return learned + sum(int(self._worker(shard).receive()) for shard in asked)

    def _running(self, shard: int) -> _Worker | None:
        """The shard's worker if it runs (a stopped one holds nothing to read)."""
        worker = self._workers[shard - 1]
        return worker if worker is not None and worker.alive() else None

    @_exclusive
    def series(self) -> list[str]:
        """Every series a shard holds state for (a stopped worker's share counts as empty)."""
        names = self.local.series()
        for shard in range(1, self.shards):
            worker = self._running(shard)
            if worker is not None:
                names += worker.ask("series")
        return sorted(names)

    @_exclusive
    def merged(self, names: Sequence[str] | None = None) -> DetectorBank:
        """A single :class:`DetectorBank` holding a copy of ``names`` (every series by default)
        from every shard: for snapshots and what-if scoring that must not touch the live state."""
        wanted = self.series() if names is None else list(names)
        merged = DetectorBank(self.local.prototype, self.local.config, self.local.guarded)
        local = [name for name in wanted if self._shard(name) == 0]
        merged.adopt(pickle.loads(pickle.dumps(self.local.scorers(local))))  # a deep copy
        for shard in range(1, self.shards):
            remote = [name for name in wanted if self._shard(name) == shard]
            worker = self._running(shard)
            if remote and worker is not None:
                merged.adopt(worker.ask("export", remote))  # copied by the pipe
        return merged

    def snapshot(self) -> bytes:
        """Every shard's state as one :meth:`DetectorBank.snapshot` (the format does not depend
        on how many workers wrote it)."""
        return self.merged().snapshot()

    @staticmethod
    def from_snapshot(
        blob: bytes, workers: int = 0, local_share: float | None = None
    ) -> ShardedBank | None:
        """The bank in ``blob`` shared out over ``workers``, or None on a version mismatch."""
        bank = DetectorBank.from_snapshot(blob)
        return None if bank is None else ShardedBank(workers, local=bank, local_share=local_share)

    @_exclusive
    def revive(self) -> bool:
        """Forget workers that stopped; True if any share has no live worker (never started,
        closed, or died). Its series then start over empty, so the caller re-warms them (from
        a snapshot or the stored history)."""
        missing = False
        for index, worker in enumerate(self._workers):
            if worker is not None and not worker.alive():
                worker.close()
                self._workers[index] = worker = None
            missing = missing or worker is None
        return missing

    @_exclusive
    def close(self) -> None:
        """Stop the workers (their state is lost: snapshot first if it is wanted)."""
        for index, worker in enumerate(self._workers):
            if worker is not None:
                worker.close()
                self._workers[index] = None
