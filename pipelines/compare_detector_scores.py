"""Do two revisions of the default detector give the same scores? (issue 15, speed work)

Usage::

    .venv/bin/python pipelines/compare_detector_scores.py --baseline main \
        --data-dir ../shared/datasets/nab/data

Every CSV under ``--data-dir`` (NAB layout: ``timestamp``, ``value``) goes through the default
detector of this checkout and of the ``--baseline`` git revision (its ``selfheal_ml`` exported
with ``git archive`` into a temporary directory and imported in a child process, so the two
never share a module). Two traces per file are compared:

- ``online``: ``score_one`` then ``learn_one`` on every point (the detector contract);
- ``pipeline``: :class:`~selfheal_ml.anomaly.scoring.SeriesScorer` (calibrated score, gated
  score, alert verdict, component that fired, expected range), i.e. what NAB is scored on;
- ``batch``: ``score_learn_many`` over the whole file, where the revision has it (the
  strictly online batch path, issue 15), compared with the baseline's ``online`` trace.

It prints the largest absolute difference of each trace and the number of differing verdicts
and components, and exits 1 unless every score agrees within ``--tolerance`` (default 0:
bit-identical) and every verdict and component is the same. ``--dump FILE`` only writes this
checkout's traces (the child process's job).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # NumPy and the package load after argparse: --help is instant
    import numpy as np
    import numpy.typing as npt

REPOSITORY = Path(__file__).resolve().parents[1]
SCORE_FIELDS = ("online", "calibrated", "score", "low", "high")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder of NAB-style CSVs")
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--tolerance", type=float, default=0.0, help="largest allowed |diff|")
    parser.add_argument("--dump", type=Path, help="only write this checkout's traces (.npz)")
    return parser.parse_args(argv)


def trace_file(csv_path: Path) -> dict[str, npt.NDArray[np.generic]]:
    """The online and pipeline traces of the default detector on one CSV."""
    import numpy as np
    import pandas as pd

    from selfheal_ml.anomaly import SeriesScorer, default_detector

    frame = pd.read_csv(csv_path, dtype={"timestamp": str})
    seconds = pd.to_datetime(frame["timestamp"]).to_numpy("datetime64[s]").astype(np.int64)
    times = seconds.astype(np.float64).tolist()
    values = frame["value"].to_numpy(float).tolist()
    detector = default_detector()
    online = np.zeros(len(values))
    for index, (ts_s, value) in enumerate(zip(times, values, strict=True)):
        point = {"value": value, "timestamp_s": ts_s}
        online[index] = detector.score_one(point)
        detector.learn_one(point)
    batch = default_detector()
    batch_trace = {}
    if hasattr(batch, "score_learn_many"):  # revisions before it have no batch path
        batch_trace["batch"] = np.array(batch.score_learn_many(values, times))
    scorer = SeriesScorer(default_detector())
    verdicts = [scorer.process(ts_s, value) for ts_s, value in zip(times, values, strict=True)]
    nan = float("nan")
    return {
        "online": online,
        "calibrated": np.array([verdict.calibrated for verdict in verdicts]),
        "score": np.array([verdict.score for verdict in verdicts]),
        "low": np.array([nan if v.expected_low is None else v.expected_low for v in verdicts]),
        "high": np.array([nan if v.expected_high is None else v.expected_high for v in verdicts]),
        "is_anomaly": np.array([verdict.is_anomaly for verdict in verdicts]),
        "component": np.array([verdict.component for verdict in verdicts]),
        **batch_trace,
    }


def dump(data_dir: Path, target: Path) -> None:
    """Write the traces of every CSV under ``data_dir`` to one ``.npz`` (keys ``file|field``)."""
    import numpy as np

    arrays: dict[str, npt.NDArray[np.generic]] = {}
    for csv_path in sorted(data_dir.rglob("*.csv")):
        name = csv_path.relative_to(data_dir).as_posix()
        for field, array in trace_file(csv_path).items():
            arrays[f"{name}|{field}"] = array
    np.savez(target, **arrays)  # type: ignore[arg-type]


def baseline_traces(revision: str, data_dir: Path, workdir: Path) -> Path:
    """Export ``revision``'s package and let a child process dump its traces."""
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", "--format=tar", revision, "selfheal_ml"],
        check=True,
        capture_output=True,
    ).stdout
    tree = workdir / "baseline"
    with tarfile.open(fileobj=BytesIO(archive)) as bundle:
        bundle.extractall(tree, filter="data")
    target = workdir / "baseline.npz"
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(Path(__file__).resolve()), "--data-dir", str(data_dir)]
    subprocess.run([*command, "--dump", str(target)], check=True, env=environment, cwd=workdir)
    return target


def compare(current: Path, baseline: Path, tolerance: float) -> bool:
    """Print the differences file by file; True when everything agrees."""
    import numpy as np

    with np.load(current) as new, np.load(baseline) as old:
        extra = set(new.files) - set(old.files)  # only batch traces may be new
        if not set(old.files) <= set(new.files) or any(not k.endswith("|batch") for k in extra):
            print("the two revisions traced different files or fields")
            return False
        files = sorted({key.split("|")[0] for key in new.files})
        agree = True
        worst = dict.fromkeys(SCORE_FIELDS, 0.0)
        for name in files:
            differences, largest = [], 0.0
            for field in SCORE_FIELDS:
                a, b = new[f"{name}|{field}"], old[f"{name}|{field}"]
                both_nan = np.isnan(a) & np.isnan(b)
                gap = float(np.max(np.where(both_nan, 0.0, np.abs(a - b)), initial=0.0))
                gap = gap if np.array_equal(np.isnan(a), np.isnan(b)) else float("inf")
                worst[field] = max(worst[field], gap)
                largest = max(largest, gap)
                differences.append(f"{field} {gap:.3g}")
            if f"{name}|batch" in new.files:  # the batch path against the baseline's loop
                reference = old[
                    f"{name}|batch" if f"{name}|batch" in old.files else f"{name}|online"
                ]
                gap = float(np.max(np.abs(new[f"{name}|batch"] - reference), initial=0.0))
                worst["batch"] = max(worst.get("batch", 0.0), gap)
                largest = max(largest, gap)
                differences.append(f"batch {gap:.3g}")
            verdicts = int(np.sum(new[f"{name}|is_anomaly"] != old[f"{name}|is_anomaly"]))
            components = int(np.sum(new[f"{name}|component"] != old[f"{name}|component"]))
            ok = largest <= tolerance and verdicts == 0 and components == 0
            agree = agree and ok
            print(f"{name}: {', '.join(differences)}; verdicts {verdicts}, components {components}")
        print(f"{len(files)} files; largest |difference|: {worst}; agree: {agree}")
        return agree


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir.resolve()
    if args.dump is not None:
        dump(data_dir, args.dump)
        return 0
    sys.path.insert(0, str(REPOSITORY))  # "this checkout": its package, whatever the cwd
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        current = workdir / "current.npz"
        dump(data_dir, current)
        baseline = baseline_traces(args.baseline, data_dir, workdir)
        return 0 if compare(current, baseline, args.tolerance) else 1


if __name__ == "__main__":
    raise SystemExit(main())
