"""Benchmark: remote write ingest against ``MetricsStore.append_batch`` of the same batches.

Requests shaped like Prometheus 2.x sends them: 2,000 ``TimeSeries`` per request, one sample
each, six labels per series (``__name__``, instance, job, platform, handler, code), 10,000
distinct series, so one scrape interval of them is five requests. Twenty intervals (100
requests, 200,000 samples) are ingested into a fresh DuckDB file by
``RemoteWriteIngest.store`` (snappy + protobuf decode, series keys, ``append_batch``: exactly
what ``POST /api/v1/write`` acknowledges), after one warm-up interval that meets every series
for the first time (reported as "cold"), once from one sender and once from ``SHARDS``
concurrent senders (Prometheus sends from several shards at once as its rate grows; the
ingest then commits concurrent batches together). Then the same decoded batches are appended to
another fresh file with ``MetricsStore.append_batch`` alone (the baseline: what storing costs
without decoding). The process is pinned to one CPU (``os.sched_setaffinity``), so "per core"
is what it says, and the heap alive before the run is kept off the garbage collector's scans
(``long_lived_heap_frozen``), as ``selfheal-ml serve`` does; both wall time and process CPU
time are printed, since the machine is shared.
The scoring hand-off (``MetricsCollected`` of the newest point per series, built in the same
worker thread before the route answers, published after the commit) is timed apart and
added to the ingest figures ("store + hand-off"). The number of appends (group commits)
each run made is printed.

A malformed and an oversized body are refused (400, 413) after the run and the stored row
count does not change.

Asserted: ingest from ``SHARDS`` senders >= 200,000 samples/s of CPU time on the one core.

Run: .venv/bin/pytest tests/benchmarks/test_remote_write_speed.py -m benchmark -s \
    -p no:cacheprovider
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cramjam
import pytest

from selfheal_ml.api.remote_write_ingest import RemoteWriteCounters, RemoteWriteIngest
from selfheal_ml.clock import SimClock
from selfheal_ml.collectors.remote_write import (
    DecodedWrite,
    RemoteWriteDecoder,
    RemoteWriteError,
    encode_write_request,
)
from selfheal_ml.heap import long_lived_heap_frozen
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.metrics import MetricsStore

pytestmark = pytest.mark.benchmark

SERIES = 10_000
PER_REQUEST = 2_000
INTERVALS = 20
SHARDS = 4
MIN_SAMPLES_PER_CPU_S = 200_000
START_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z


def series_labels(index: int) -> dict[str, str]:
    return {
        "__name__": f"http_requests_per_second_{index % 20}",
        "instance": f"10.0.{index % 50}.{index % 200}:9100",
        "job": "node",
        "platform": f"site-{index % 7}",
        "handler": f"/api/v1/resource/{index}",
        "code": str(200 + index % 5),
    }


def interval_bodies(interval: int) -> list[bytes]:
    """One scrape interval of every series, as Prometheus batches it."""
    bodies = []
    for first in range(0, SERIES, PER_REQUEST):
        batch = [
            (series_labels(i), [(START_MS + interval * 15_000 + i, float(i % 97))])
            for i in range(first, first + PER_REQUEST)
        ]
        bodies.append(encode_write_request(batch))
    return bodies


@contextmanager
def one_core() -> Iterator[int]:
    """Pin the process to one CPU for the block."""
    before = os.sched_getaffinity(0)
    core = min(before)
    os.sched_setaffinity(0, {core})
    try:
        yield core
    finally:
        os.sched_setaffinity(0, before)


def timed_ingest(
    ingest: RemoteWriteIngest, store: MetricsStore, bodies: list[bytes]
) -> tuple[float, float, list[DecodedWrite]]:
    decoded: list[DecodedWrite] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        decoded.append(ingest.store(body, store))
    return time.perf_counter() - wall, time.process_time() - cpu, decoded


def timed_shards(
    ingest: RemoteWriteIngest, store: MetricsStore, bodies: list[bytes]
) -> tuple[float, float]:
    """Wall and CPU time of ``SHARDS`` threads each sending every ``SHARDS``-th body."""

    def shard(share: list[bytes]) -> None:
        for body in share:
            ingest.store(body, store)

    threads = [
        threading.Thread(target=shard, args=(bodies[index::SHARDS],)) for index in range(SHARDS)
    ]
    wall, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - wall, time.process_time() - cpu


def reference_loop_cpu_s() -> float:
    """CPU seconds of 10**6 pure-Python additions: how fast this core is right now."""
    started, total = time.process_time(), 0
    for number in range(1_000_000):
        total += number
    return time.process_time() - started


def test_remote_write_ingest_speed(tmp_path: Path) -> None:
    intervals = [interval_bodies(interval) for interval in range(INTERVALS + 1)]
    cold_bodies, bodies = intervals[0], [body for bodies in intervals[1:] for body in bodies]
    samples = len(bodies) * PER_REQUEST
    compressed = sum(len(body) for body in bodies)
    with one_core() as core, long_lived_heap_frozen():  # as `selfheal-ml serve` runs
        store = MetricsStore(Database(tmp_path / "ingest.duckdb"), SimClock())
        ingest = RemoteWriteIngest(RemoteWriteDecoder(), RemoteWriteCounters())
        _, cold_cpu, _ = timed_ingest(ingest, store, cold_bodies)
        reference_s = reference_loop_cpu_s()
        commits_before = ingest.commits()
        wall, cpu, decoded = timed_ingest(ingest, store, bodies)
        ingest_commits = ingest.commits() - commits_before
        sharded_store = MetricsStore(Database(tmp_path / "sharded.duckdb"), SimClock())
        sharded = RemoteWriteIngest(RemoteWriteDecoder(), RemoteWriteCounters())
        timed_ingest(sharded, sharded_store, cold_bodies)
        commits_before = sharded.commits()
        shard_wall, shard_cpu = timed_shards(sharded, sharded_store, bodies)
        shard_commits = sharded.commits() - commits_before

        baseline = MetricsStore(Database(tmp_path / "baseline.duckdb"), SimClock())
        first = ingest.decoder.decode(cold_bodies[0])
        baseline.append_batch(first.table, first.labels)  # catalogue warm, as for the ingest
        base_wall, base_cpu = time.perf_counter(), time.process_time()
        for batch in decoded:
            baseline.append_batch(batch.table, batch.labels)
        base_wall, base_cpu = time.perf_counter() - base_wall, time.process_time() - base_cpu

        decoder = RemoteWriteDecoder()
        for body in cold_bodies:
            decoder.decode(body)
        decode_cpu = time.process_time()
        for body in bodies:
            decoder.decode(body)
        decode_cpu = time.process_time() - decode_cpu

        # events are not kept: on the service each is published and consumed, then dropped
        hand_off = time.process_time()
        handed = sum(len(event.points) for event in map(ingest.collected_event, decoded) if event)
        hand_off = time.process_time() - hand_off

        with store.db.read() as conn:
            stored_before = conn.execute("SELECT count(*) FROM metric_points").fetchall()[0][0]
        refusals = []
        oversized = RemoteWriteDecoder(max_body_bytes=1024)
        for decoder, body in (
            (ingest.decoder, bytes(cramjam.snappy.compress_raw(b"\xff" * 512))),
            (oversized, bodies[0]),
        ):
            try:
                RemoteWriteIngest(decoder, RemoteWriteCounters()).store(body, store)
            except RemoteWriteError as error:
                refusals.append(error.status)
        with store.db.read() as conn:
            stored_after = conn.execute("SELECT count(*) FROM metric_points").fetchall()[0][0]

    rate_cpu, rate_wall = samples / cpu, samples / wall
    print(
        f"\nremote write, {samples:,} samples in {len(bodies)} requests "
        f"({compressed / len(bodies) / 1024:.0f} KiB snappy each), {SERIES:,} series, core {core}"
    )
    print(f"  reference loop (10**6 Python additions): {reference_s:.3f} CPU-s")
    cold_rate = PER_REQUEST * len(cold_bodies) / cold_cpu
    print(f"  cold interval (new series): {cold_rate:,.0f} samples/CPU-s")
    print(f"  ingest, 1 sender: {rate_cpu:,.0f} samples/CPU-s, {rate_wall:,.0f} samples/s wall")
    shard_rate = samples / shard_cpu
    print(
        f"  ingest, {SHARDS} senders: {shard_rate:,.0f} samples/CPU-s, "
        f"{samples / shard_wall:,.0f} samples/s wall"
    )
    print(f"  decode alone (snappy, protobuf, keys): {samples / decode_cpu:,.0f} samples/CPU-s")
    print(
        f"  append_batch alone: {samples / base_cpu:,.0f} samples/CPU-s, "
        f"{samples / base_wall:,.0f} samples/s wall"
    )
    print(
        f"  ratio ingest/append_batch time, 1 sender: CPU {cpu / base_cpu:.2f}, "
        f"wall {wall / base_wall:.2f}; {SHARDS} senders: CPU {shard_cpu / base_cpu:.2f}, "
        f"wall {shard_wall / base_wall:.2f}"
    )
    print(
        f"  scoring hand-off (event of the newest point per series, built before the 204): "
        f"{samples / hand_off:,.0f} samples/CPU-s ({handed:,} "
        f"points); store + hand-off: 1 sender {samples / (cpu + hand_off):,.0f}, {SHARDS} senders "
        f"{samples / (shard_cpu + hand_off):,.0f} samples/CPU-s"
    )
    print(f"  appends (group commits): 1 sender {ingest_commits}, {SHARDS} senders {shard_commits}")
    print(f"  refused: {refusals}, rows before {stored_before:,}, after {stored_after:,}")
    assert refusals == [400, 413]
    assert stored_after == stored_before == samples + PER_REQUEST * len(cold_bodies)
    with sharded_store.db.read() as conn:
        sharded_rows = conn.execute("SELECT count(*) FROM metric_points").fetchall()[0][0]
    assert sharded_rows == stored_after
    assert shard_rate >= MIN_SAMPLES_PER_CPU_S
