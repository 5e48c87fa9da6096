"""Durability: every batch MetricsStore acknowledged survives a SIGKILL of the writer.

A child process appends batches and prints ``acked <n>`` after each ``append_batch`` returns,
then blocks. The parent SIGKILLs it as soon as it reads the last acknowledgement (no clean
close, no checkpoint), re-opens the file and must find every acknowledged row. It does so with
DuckDB's defaults and with the service's storage settings (a checkpoint every 1 MB of WAL here,
so that several checkpoints run between the acknowledgements; the allocator's background
threads on).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from selfheal_ml.clock import SimClock
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.metrics import MetricsStore

BATCHES = 4
ROWS_PER_BATCH = 2_500

CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np, pandas as pd
    from selfheal_ml.clock import SimClock
    from selfheal_ml.storage.database import Database
    from selfheal_ml.storage.metrics import MetricsStore

    path, batches, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threshold = int(sys.argv[4]) if sys.argv[4] != "default" else None
    database = Database(
        path, checkpoint_threshold_mb=threshold, allocator_background_threads=bool(threshold)
    )
    store = MetricsStore(database, SimClock())
    start = pd.Timestamp("2026-01-05", tz="UTC")
    for batch in range(batches):
        index = np.arange(batch * rows, (batch + 1) * rows)
        frame = pd.DataFrame({
            "series": [f'load{{shard="{i % 7}"}}' for i in index],
            "ts": start + pd.to_timedelta(index, unit="s"),
            "value": index.astype(float),
        })
        store.append_batch(frame)
        print(f"acked {(batch + 1) * rows}", flush=True)
    time.sleep(600)  # blocked: the parent kills us here
    """
)


@pytest.mark.parametrize(
    ("checkpoint_threshold", "batches", "rows_per_batch"),
    [("default", BATCHES, ROWS_PER_BATCH), ("1", 6, 30_000)],
)
def test_acknowledged_rows_survive_sigkill(
    tmp_path: Path, checkpoint_threshold: str, batches: int, rows_per_batch: int
) -> None:
    path = tmp_path / "durable.duckdb"
    arguments = [str(path), str(batches), str(rows_per_batch), checkpoint_threshold]
    command = [sys.executable, "-c", CHILD, *arguments]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            acked = 0
            while acked < batches * rows_per_batch:
                line = child.stdout.readline()
                assert line.startswith("acked "), f"child exited early: {line!r}"
                acked = int(line.split()[1])
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    db = Database(path)
    store = MetricsStore(db, SimClock())
    start = datetime(2026, 1, 5, tzinfo=UTC)
    frames = store.window_many(
        [f'load{{shard="{shard}"}}' for shard in range(7)], start, start + timedelta(days=3)
    )
    values = np.sort(np.concatenate([frame["value"].to_numpy() for frame in frames.values()]))
    np.testing.assert_array_equal(values, np.arange(acked, dtype=float))
    assert len(store.catalogue()) == 7
    db.close()
