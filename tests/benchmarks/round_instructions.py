"""Instructions of the round-overhead benchmark's two paths, which the machine's load does not
move (issue 20): run one path for N rounds of S series under valgrind, twice with different
N, and divide the difference of the totals by the difference of N (start-up cancels out).

    for n in 20 120; do for path in plain agent; do
        PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
            --cachegrind-out-file=/dev/null .venv/bin/python \\
            -m tests.benchmarks.round_instructions $path $n 150 2>&1 | grep "I *refs"
    done; done

Same code and input as ``test_round_overhead.py`` (fresh state, the first N rounds).
"""

from __future__ import annotations

import asyncio
import sys

from tests.benchmarks import test_round_overhead as bench


def main(path: str, rounds: int, series: int) -> None:
    """Run ``path`` (``plain`` or ``agent``) for ``rounds`` rounds of ``series`` series."""
    bench.ROUNDS = rounds
    values, points = bench._rounds(series)
    if path == "plain":
        bench.plain_s(values)
    elif path == "agent":
        asyncio.run(bench.agent_s(points))
    else:
        raise SystemExit(f"path: expected plain or agent, got {path!r}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
