"""ShardedBank: the verdicts of one DetectorBank, with the series spread over worker processes.

Each test starts its own worker process (spawning one costs about a second), and every
test compares the sharded bank with a plain DetectorBank fed the same points.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from selfheal_ml.anomaly import DetectorBank
from selfheal_ml.errors import ValidationError
from selfheal_ml.scoring import Rejected, RoundPoint, ScoringWorkerLostError, ShardedBank, shard_of

SERIES = [f"platform_{index}.latency_ms" for index in range(12)]
START_S = 1_767_571_200.0  # 2026-01-05, a Monday


def _rounds(count: int, seed: int = 7, first: int = 0) -> list[list[RoundPoint]]:
    """Daily-seasonal noisy series with a spike now and then, one point per series a minute."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(5.0, 500.0, len(SERIES))
    rounds = []
    for step in range(first, first + count):
        season = 1.0 + 0.3 * np.sin(2 * np.pi * step / 1440)
        values = levels * season * (1.0 + 0.05 * rng.standard_normal(len(SERIES)))
        values[step % len(SERIES)] *= 20.0 if step % 577 == 0 else 1.0
        rounds.append(
            [
                (name, START_S + 60.0 * step, float(v))
                for name, v in zip(SERIES, values, strict=True)
            ]
        )
    return rounds


@pytest.fixture
def sharded() -> Iterator[ShardedBank]:
    bank = ShardedBank(workers=1)
    yield bank
    bank.close()


def test_series_are_shared_out_over_both_shards() -> None:
    shards = {shard_of(name, 2) for name in SERIES}
    assert shards == {0, 1}  # otherwise the tests below would not exercise the worker


def test_verdicts_equal_a_single_bank_bit_for_bit(sharded: ShardedBank) -> None:
    single = DetectorBank()
    rounds = _rounds(1500)
    expected = [[single.score(*point) for point in points] for points in rounds]
    got = [sharded.score_round(points) for points in rounds]
    assert got == expected
    assert any(verdict.is_anomaly for verdicts in expected for verdict in verdicts)
    assert sharded.series() == single.series() == sorted(SERIES)


def test_refused_points_are_rejected_in_place_and_not_learned(sharded: ShardedBank) -> None:
    single = DetectorBank()
    for points in _rounds(50):
        assert sharded.score_round(points) == [single.score(*point) for point in points]
    late = (SERIES[1], START_S, 1.0)  # before the last point of that series
    broken = (SERIES[2], START_S + 60.0 * 50, float("nan"))
    fine = (SERIES[3], START_S + 60.0 * 50, 100.0)
    verdicts = sharded.score_round([late, broken, fine])
    assert isinstance(verdicts[0], Rejected) and "ts" in verdicts[0].reason
    assert isinstance(verdicts[1], Rejected) and "value" in verdicts[1].reason
    assert verdicts[2] == single.score(*fine)


def test_replay_many_rewarms_like_replay(sharded: ShardedBank) -> None:
    history = _rounds(2500)
    histories = {
        name: (
            np.array([points[index][2] for points in history]),
            np.array([points[index][1] for points in history]),
        )
        for index, name in enumerate(SERIES)
    }
    single = DetectorBank()
    learned = sum(single.replay(name, *pair) for name, pair in histories.items())
    assert sharded.replay_many(histories) == learned == 2500 * len(SERIES)
    after = _rounds(200, first=2500)
    assert [sharded.score_round(p) for p in after] == [
        [single.score(*point) for point in points] for points in after
    ]


def test_a_snapshot_does_not_depend_on_the_number_of_workers(sharded: ShardedBank) -> None:
    rounds = _rounds(600)
    for points in rounds[:400]:
        sharded.score_round(points)
    restored = DetectorBank.from_snapshot(sharded.snapshot())
    assert restored is not None and restored.series() == sorted(SERIES)
    in_one_process = ShardedBank.from_snapshot(sharded.snapshot(), workers=0)
    assert in_one_process is not None
    for points in rounds[400:]:
        verdicts = sharded.score_round(points)
        assert in_one_process.score_round(points) == verdicts
        assert [restored.score(*point) for point in points] == verdicts


def test_merged_copies_do_not_teach_the_live_bank(sharded: ShardedBank) -> None:
    rounds = _rounds(400)
    for points in rounds[:300]:
        sharded.score_round(points)
    remote = next(name for name in SERIES if shard_of(name, 2) == 1)
    copy = sharded.merged([remote])
    assert copy.series() == [remote]
    twin = sharded.merged([remote])
    for points in rounds[300:]:
        for point in points:
            if point[0] == remote:
                copy.score(*point)
    mine = [
        verdict
        for points in rounds[300:]
        for verdict, p in zip(sharded.score_round(points), points, strict=True)
        if p[0] == remote
    ]
    assert mine == [twin.score(*p) for points in rounds[300:] for p in points if p[0] == remote]


def test_a_lost_worker_is_reported_then_replaced_empty(sharded: ShardedBank) -> None:
    for points in _rounds(5):
        sharded.score_round(points)
    worker = sharded._worker(1)
    os.kill(worker.process.pid or 0, signal.SIGKILL)
    worker.process.join(timeout=10)
    with pytest.raises(ScoringWorkerLostError):
        sharded.score_round(_rounds(1, first=5)[0])
    local = {name for name in SERIES if shard_of(name, 2) == 0}
    assert set(sharded.series()) == local  # a snapshot taken now keeps what is left
    assert DetectorBank.from_snapshot(sharded.snapshot()) is not None
    assert sharded.revive() is True
    assert set(sharded.series()) == local
    assert len(sharded.score_round(_rounds(1, first=6)[0])) == len(SERIES)
    assert sharded.revive() is False  # the new worker runs
    sharded.close()
    assert sharded.revive() is True  # closed: its share is gone until re-warmed
    assert ShardedBank(workers=0).revive() is False


def test_negative_workers_is_a_validation_error_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="workers"):
        ShardedBank(workers=-1)


def test_rounds_and_copies_from_two_threads_do_not_cross_on_the_pipe(
    sharded: ShardedBank,
) -> None:
    """The agent scores in one thread while the API copies a series in another."""
    rounds = _rounds(400)
    single = DetectorBank()
    expected = [[single.score(*point) for point in points] for points in rounds]
    remote = next(name for name in SERIES if shard_of(name, 2) == 1)
    copies: list[int] = []
    done = threading.Event()

    def copy_until_done() -> None:
        while not done.is_set():
            copies.append(len(sharded.merged([remote]).series()))

    copier = threading.Thread(target=copy_until_done)
    copier.start()
    try:
        got = [sharded.score_round(points) for points in rounds]
    finally:
        done.set()
        copier.join(timeout=30)
    assert got == expected
    assert copies and set(copies) <= {0, 1}


def test_a_small_local_share_keeps_the_verdicts_and_sends_the_rest_to_the_worker() -> None:
    bank = ShardedBank(workers=1, local_share=0.1)
    try:
        single = DetectorBank()
        rounds = _rounds(400)
        expected = [[single.score(*point) for point in points] for points in rounds]
        assert [bank.score_round(points) for points in rounds] == expected
        assert len(bank.local.series()) < len(SERIES) // 2  # most series live in the worker
        assert bank.series() == sorted(SERIES)
    finally:
        bank.close()


def test_a_local_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValidationError, match="local_share"):
        ShardedBank(workers=1, local_share=1.5)
