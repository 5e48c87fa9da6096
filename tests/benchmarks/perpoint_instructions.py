"""Instructions per point of the per-point paths of ``test_detector_speed.py``, which the
machine's load does not move (issues 15 and 20): run one path over the first N points of that
benchmark's workload under valgrind, twice with different N, and divide the difference of the
totals by the difference of N (start-up, imports and the warm-up cancel out; what is left is
the steady per-point cost after N points). Both N past 21 000: the weekly profile and its
calibrator start learning after two weeks of points (20 160 at one a minute), so a smaller N
would count their warm-up in the difference.

    for n in 30000 34000; do for path in river detector scorer; do
        PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
            --cachegrind-out-file=/dev/null .venv/bin/python \\
            -m tests.benchmarks.perpoint_instructions $path $n 2>&1 | grep "I *refs"
    done; done

Paths: ``river`` (``MinMaxScaler | HalfSpaceTrees``, the benchmark's baseline), ``detector``
(the default detector's ``score_one`` then ``learn_one`` of each point's dict, the detector
contract) and ``scorer`` (``SeriesScorer.process``, the path every live round takes).
"""

from __future__ import annotations

import sys

from selfheal_ml.anomaly import SeriesScorer, default_detector, river_baseline
from tests.benchmarks import test_detector_speed as bench


def main(path: str, points: int) -> None:
    """Run ``path`` (``river``, ``detector`` or ``scorer``) over the first ``points`` points."""
    times, values = bench.workload()
    times, values = times[:points], values[:points]
    if path in ("river", "detector"):
        detector = river_baseline() if path == "river" else default_detector()
        for ts_s, value in zip(times, values, strict=True):
            point = {"value": value, "timestamp_s": ts_s}
            detector.score_one(point)
            detector.learn_one(point)
    elif path == "scorer":
        scorer = SeriesScorer(default_detector())
        for ts_s, value in zip(times, values, strict=True):
            scorer.process(ts_s, value)
    else:
        raise SystemExit(f"path: expected river, detector or scorer, got {path!r}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
