"""What a lower DuckDB checkpoint threshold costs the service's writes (issue 17).

The service checkpoints at a small WAL instead of DuckDB's 16 MB (``db_checkpoint_threshold_mb``)
so that the rows and indexes written since the last checkpoint do not pile up in its memory.
Each checkpoint runs inside the commit that crosses the threshold, on the writer's thread, so it
is paid on the hot path. This measures that cost on a replay of a collection round's writes:
per round, 230 series' points appended through ``MetricsStore.append_points``, their anomaly
scores through ``Database.append``, and one detector snapshot upserted, as the live service at
2 s writes them; 1,200 rounds (40 minutes of the service) per run, in a fresh file.

The thresholds alternate, ``--repeats`` runs each, every run in a fresh interpreter; printed:
per run, the CPU seconds of the whole process (``time.process_time``, so the machine's load
does not enter), the slowest round's CPU time after the first ten and the WAL left without a
checkpoint at the end (at 16 MB no checkpoint comes in 1,200 rounds: its cost falls after the
measure), then the median ratio of the CPU seconds of each lower threshold (4 and 1 MB) to the
default's (the ratio is what counts: both sides run on the same machine in the same session).

    .venv/bin/python -m tests.benchmarks.checkpoint_write_cost [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SERIES = 230
ROUNDS = 1200
WARM_UP = 10
MODULE = "tests.benchmarks.checkpoint_write_cost"
THRESHOLDS_MB = (16, 4, 1)


def replay(threshold_mb: int, folder: Path) -> dict[str, float]:
    """The rounds' writes with DuckDB checkpointing at ``threshold_mb``; CPU seconds spent."""
    from selfheal_ml.clock import SimClock
    from selfheal_ml.events import MetricPoint, series_key
    from selfheal_ml.storage import Database
    from selfheal_ml.storage.metrics import MetricsStore

    start = datetime(2026, 12, 4, tzinfo=UTC)
    database = Database(folder / "replay.duckdb", checkpoint_threshold_mb=threshold_mb)
    store = MetricsStore(database, SimClock(start))
    keys = [series_key("http_latency_ms", {"platform": f"site-{n}"}) for n in range(SERIES)]
    snapshot = b"x" * 20_000
    started = time.process_time()
    slowest = 0.0
    for number in range(ROUNDS):
        round_started = time.process_time()
        ts = start + timedelta(seconds=2 * number)
        store.append_points(
            MetricPoint(series=key, ts=ts, value=float(n + number % 7))
            for n, key in enumerate(keys)
        )
        database.append(
            "anomaly_scores",
            [(key, ts, float(n), 0.1, 0.2, False, 0.0, 1.0) for n, key in enumerate(keys)],
        )
        with database.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO detector_snapshots VALUES (?, ?, ?, ?)",
                [f"detector-{number % 20}", 1, ts, snapshot],
            )
        if number >= WARM_UP:  # the first rounds create the catalogue and import pyarrow
            slowest = max(slowest, time.process_time() - round_started)
    spent = time.process_time() - started
    wal = folder / "replay.duckdb.wal"  # what no checkpoint has taken yet
    wal_mb = wal.stat().st_size / 1e6 if wal.exists() else 0.0
    database.close()
    return {"cpu_s": spent, "slowest_round_ms": slowest * 1000, "wal_left_mb": wal_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(replay(args.one, Path(folder))))
        return
    spent: dict[int, list[float]] = {threshold: [] for threshold in THRESHOLDS_MB}
    for repeat in range(args.repeats):
        for threshold in THRESHOLDS_MB:
            answer = subprocess.run(
                [sys.executable, "-m", MODULE, "--one", str(threshold)],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(answer.stdout)
            spent[threshold].append(figures["cpu_s"])
            print(
                f"run {repeat + 1}, checkpoint at {threshold:>2} MB: {figures['cpu_s']:.2f} CPU s"
                f" for {ROUNDS} rounds, slowest round {figures['slowest_round_ms']:.0f} ms CPU,"
                f" WAL left {figures['wal_left_mb']:.1f} MB",
                flush=True,
            )
    for threshold in THRESHOLDS_MB[1:]:
        ratios = [low / default for default, low in zip(spent[16], spent[threshold], strict=True)]
        listed = ", ".join(f"{ratio:.3f}" for ratio in ratios)
        print(
            f"CPU seconds, {threshold} MB / 16 MB: median ratio"
            f" {statistics.median(ratios):.3f} ({listed})"
        )


if __name__ == "__main__":
    main()
