"""Instructions of writing one round's score rows to DuckDB, the part of the Predictive agent's
round that the plain scoring loop does not do (issue 20: a round of 150 series <= 2x the plain
loop). Like ``round_instructions.py``: run it under valgrind twice with different numbers of
rounds and divide the difference of the totals by the difference of the rounds (start-up and
imports cancel out); rows per round 1 gives the fixed cost of one write, 150 the benchmark's.

    for rows in 1 150; do for n in 20 120; do
        PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
            --cachegrind-out-file=/dev/null .venv/bin/python \\
            -m tests.benchmarks.score_write_instructions $n $rows 2>&1 | grep "I *refs"
    done; done

The rows are built in the loop, so their construction (a tuple a row) counts in the
difference too; the write is :meth:`AnomalyStore.append_score_rows`, the agent's (one
appender flush per round, its own transaction).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from selfheal_ml.storage import Database
from selfheal_ml.storage.anomalies import AnomalyStore, ScoreRow

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def main(rounds: int, rows: int) -> None:
    """Write ``rounds`` rounds of ``rows`` score rows, one write per round."""
    database = Database(":memory:")
    store = AnomalyStore(database)
    for step in range(rounds):
        ts = T0 + timedelta(seconds=30 * step)
        batch: list[ScoreRow] = [
            (f"bench_gauge_{index}", ts, 100.0, 0.5, 0.1, False, 90.0, 110.0)
            for index in range(rows)
        ]
        store.append_score_rows(batch)
    database.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
