"""What DuckDB's allocator keeps of the memory DuckDB frees, per setting (issue 17).

DuckDB allocates through its own jemalloc, not glibc's malloc, so ``malloc_trim`` does not
reach it and ``duckdb_memory()`` counts what DuckDB uses, not what the process holds. Each
setting runs in a fresh interpreter on a temporary file: 20 tables with a VARCHAR primary key
(one ``INSERT OR REPLACE`` each per round, as the stores' upserts do), a raw points table
(3,000 appended rows per round, 300 series) and a grouped quantile query per round, 60
rounds; then ``CHECKPOINT`` and, 3 s later, one trivial query. Printed per setting: the RSS the
workload added before the checkpoint, after it and 3 s later, beside DuckDB's own accounting.

    .venv/bin/python -m tests.benchmarks.duckdb_allocator_rss

The figures depend on the allocator, not on the machine's load (no timing is measured).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("allocator_background_threads = true",),
    ("allocator_flush_threshold = '4MB'",),
    ("threads = 1",),
    ("allocator_background_threads = true", "checkpoint_threshold = '4MB'"),
)


def resident_mb() -> int:
    """``VmRSS`` of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def workload(settings: tuple[str, ...], folder: Path) -> dict[str, int]:
    """Run the workload with ``settings`` and return the RSS it added at each point."""
    import duckdb

    connection = duckdb.connect(str(folder / "allocator.duckdb"))
    for setting in settings:
        connection.execute(f"SET {setting}")

    def accounted() -> int:
        row = connection.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()
        return int(row[0] if row else 0) // 1048576

    for table in range(20):
        connection.execute(f"CREATE TABLE t{table} (id VARCHAR PRIMARY KEY, v DOUBLE)")
    connection.execute("CREATE TABLE points (series VARCHAR, ts TIMESTAMPTZ, value DOUBLE)")
    start = resident_mb()
    for round_number in range(60):
        connection.execute(
            "INSERT INTO points SELECT 'series-' || (i % 300)::VARCHAR || '-abcdefghij',"
            " now() + to_seconds(i), random() FROM range(3000) t(i)"
        )
        for table in range(20):
            connection.execute(
                f"INSERT OR REPLACE INTO t{table} VALUES (?, ?)",
                [f"key-{round_number}", round_number],
            )
        connection.execute(
            "SELECT series, avg(value), quantile_cont(value, 0.95) FROM points GROUP BY series"
        ).fetchall()
    figures = {"before_mb": resident_mb() - start, "before_duckdb_mb": accounted()}
    connection.execute("CHECKPOINT")
    figures |= {"after_mb": resident_mb() - start, "after_duckdb_mb": accounted()}
    time.sleep(3)
    connection.execute("SELECT 1").fetchall()
    figures |= {"later_mb": resident_mb() - start, "later_duckdb_mb": accounted()}
    connection.close()
    return figures


def main() -> None:
    """Each setting in a fresh interpreter (``--one`` runs one and prints its figures)."""
    if sys.argv[1:2] == ["--one"]:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(workload(tuple(sys.argv[2:]), Path(folder))))
        return
    for settings in SETTINGS:
        answer = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.duckdb_allocator_rss", "--one", *settings],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(answer.stdout)
        print(
            f"{' + '.join(settings) or 'DuckDB defaults':<70} RSS added before checkpoint "
            f"+{figures['before_mb']} MB (DuckDB {figures['before_duckdb_mb']}), after "
            f"+{figures['after_mb']} (DuckDB {figures['after_duckdb_mb']}), 3 s later "
            f"+{figures['later_mb']} (DuckDB {figures['later_duckdb_mb']})"
        )


if __name__ == "__main__":
    main()
