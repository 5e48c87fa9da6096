"""Run anomaly detectors over NAB data strictly online, score them, and log to MLflow.

Usage:

    python pipelines/evaluate_nab.py --data-dir ../shared/datasets/nab/data \\
        --windows ../shared/datasets/nab/combined_windows.json --out results/nab \\
        [--detector default --detector river-hst] [--tracking-uri sqlite:///mlruns/mlflow.db]

For each detector, every CSV under ``--data-dir`` is scored point by point (score before learn, no
look-ahead), written to ``OUT/<detector>/<category>/<detector>_<file>.csv`` with columns
``timestamp,value,anomaly_score``, then the corpus is scored with the three NAB profiles (best
threshold over the corpus) and at the product's default alert threshold (no tuning on labels).
Files are processed in parallel, one per core.

Each detector's MLflow run (experiment ``anomaly-nab``) is tagged ``split=in-sample`` and also
carries its leave-one-category-out figures (``*_held_out``: threshold fitted on the other
categories). With ``--cross-validate`` the pipeline also *selects* among the detectors by that
held-out score (:mod:`selfheal_ml.evaluation.model_selection`), prints the nested estimate of the
selection (outer leave-one-category-out around the whole selection), and logs it as a run
``selection`` tagged ``split=held-out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy, pandas, river and MLflow load after argparse: --help is instant
    import numpy as np

    from selfheal_ml.evaluation import nab

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # = selfheal_ml.tracking's

EXPERIMENT = "anomaly-nab"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="NAB's data/ folder")
    parser.add_argument(
        "--windows", type=Path, required=True, help="NAB's combined_windows.json (labels)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the results files")
    parser.add_argument(
        "--detector",
        action="append",
        metavar="NAME",
        help="a detector of selfheal_ml.anomaly.registry or a tuning-grid name, repeatable"
        " (default: default and river-hst; an unknown name lists them all)",
    )
    parser.add_argument("--grid", action="store_true", help="add every tuning-grid candidate")
    parser.add_argument("--profiles", type=Path, default=None, help="default: next to --windows")
    parser.add_argument(
        "--tracking-uri", default=DEFAULT_TRACKING_URI, help="MLflow tracking store"
    )
    parser.add_argument("--no-tracking", action="store_true", help="log nothing to MLflow")
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="files scored in parallel"
    )
    parser.add_argument(
        "--reuse-scores",
        action="store_true",
        help="read results files already in --out instead of scoring again (same code only)",
    )
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="also estimate, leaving one category out, the score of choosing among --detector",
    )
    args = parser.parse_args(argv)
    from selfheal_ml.anomaly.registry import DETECTORS
    from selfheal_ml.anomaly.tuning import TUNING_GRID

    unknown = sorted(set(args.detector or ()) - {*DETECTORS, *TUNING_GRID})
    if unknown:
        parser.error(f"--detector: unknown {unknown}; expected one of {[*DETECTORS, *TUNING_GRID]}")
    return args


def run_file(job: tuple[str, Path, Path, Path, bool]) -> tuple[str, np.ndarray, list[str]]:
    """Score one CSV with one detector and write the NAB results file (or, with ``reuse``,
    read the results file an earlier run of the same code wrote)."""
    import numpy as np
    import pandas as pd

    from selfheal_ml.anomaly.alert_policy import DEFAULT_THRESHOLD
    from selfheal_ml.anomaly.batch import score_series, to_unit_interval
    from selfheal_ml.anomaly.registry import BASELINES

    name, data_dir, csv_path, out, reuse = job
    relative = csv_path.relative_to(data_dir)
    target = out / name / relative.parent / f"{name}_{relative.name}"
    if reuse and target.exists():
        written = pd.read_csv(target, dtype={"timestamp": str})
        return (
            relative.as_posix(),
            written["anomaly_score"].to_numpy(float),
            written["timestamp"].tolist(),
        )
    frame = pd.read_csv(csv_path, dtype={"timestamp": str})
    seconds = pd.to_datetime(frame["timestamp"]).to_numpy("datetime64[s]").astype(np.int64)
    scores = score_series(name, seconds.astype(np.float64), frame["value"].to_numpy(float))
    unit = scores if name in BASELINES else to_unit_interval(scores, DEFAULT_THRESHOLD)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.assign(anomaly_score=unit).to_csv(target, index=False)
    return relative.as_posix(), unit, frame["timestamp"].tolist()


def evaluate(
    name: str,
    args: argparse.Namespace,
    windows: dict[str, list[list[str]]],
    profiles: list[nab.Profile],
) -> tuple[dict[str, float], dict[str, nab.LabelledFile]]:
    """Run one detector over the corpus; its normalised scores by profile and labelled files."""
    from tqdm import tqdm

    from selfheal_ml.anomaly.registry import BASELINES
    from selfheal_ml.evaluation import model_selection, nab

    files = sorted(args.data_dir.rglob("*.csv"))
    jobs = [(name, args.data_dir, path, args.out, args.reuse_scores) for path in files]
    by_key = {}
    with ProcessPoolExecutor(max_workers=args.processes) as pool:
        for key, unit, stamps in tqdm(pool.map(run_file, jobs), total=len(jobs), desc=name):
            by_key[key] = nab.LabelledFile.build(unit, nab.window_rows(stamps, windows[key]))
    labelled = list(by_key.values())
    metrics = {}
    for profile in profiles:
        result = nab.sweep(labelled, profile)
        metrics[f"nab_{profile.name}"] = result.normalised_score
        metrics[f"threshold_{profile.name}"] = result.threshold
        if name not in BASELINES:
            metrics[f"nab_{profile.name}_at_default"] = nab.corpus_score(labelled, 0.5, profile)
        metrics[f"nab_{profile.name}_held_out"] = model_selection.held_out_score(by_key, profile)
    return metrics, by_key


def describe(name: str) -> str:
    """What a detector name stands for, for the MLflow run's parameters."""
    from selfheal_ml.anomaly.registry import DETECTORS
    from selfheal_ml.anomaly.tuning import TUNING_GRID

    candidate = TUNING_GRID.get(name)
    text = repr(candidate) if candidate is not None else repr(DETECTORS[name]())
    return text[:6000]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from selfheal_ml.anomaly.alert_policy import DEFAULT_THRESHOLD
    from selfheal_ml.anomaly.tuning import TUNING_GRID
    from selfheal_ml.evaluation import nab
    from selfheal_ml.tracking import Tracker

    windows = json.loads(args.windows.read_text())
    profiles_path = args.profiles or args.windows.with_name("profiles.json")
    profiles = (
        nab.profiles_from_json(json.loads(profiles_path.read_text()))
        if profiles_path.exists()
        else list(nab.PROFILES.values())
    )
    results = {}
    names = (args.detector or ([] if args.grid else ["default", "river-hst"])) + (
        list(TUNING_GRID) if args.grid else []
    )
    for name in names:
        metrics, results[name] = evaluate(name, args, windows, profiles)
        print(
            f"{name}: "
            + ", ".join(
                f"{key}={value:.1f}" for key, value in metrics.items() if key.startswith("nab_")
            )
        )
        if not args.no_tracking:
            params = {
                "detector": name,
                "default_threshold": DEFAULT_THRESHOLD,
                "definition": describe(name),
                "files": len(windows),
            }
            tags = {"split": "in-sample"}
            Tracker(args.tracking_uri).log_run(EXPERIMENT, name, params, metrics, tags=tags)
    if args.cross_validate:
        cross_validate(args, results, profiles)
    return 0


def cross_validate(
    args: argparse.Namespace,
    results: dict[str, dict[str, nab.LabelledFile]],
    profiles: list[nab.Profile],
) -> None:
    """Select by held-out score, print and log the nested estimate of that selection."""
    from selfheal_ml.evaluation import model_selection, nab
    from selfheal_ml.tracking import Tracker

    metrics: dict[str, float] = {}
    params: dict[str, object] = {"candidates": len(results)}
    for profile in profiles:
        estimate = nab.cross_validate(results, profile)
        print(f"cross-validated choice, {profile.name}: {estimate.normalised_score:.1f}")
        for category, (name, threshold) in estimate.choices.items():
            print(f"  held out {category}: chose {name} at threshold {threshold:.3f}")
        chosen = model_selection.select(results, profile)
        nested = model_selection.nested_cross_validate(results, profile)
        print(f"selected by held-out score, {profile.name}: {chosen}")
        print(f"nested cross-validated estimate, {profile.name}: {nested.score:.1f}")
        for category, (name, threshold) in nested.choices.items():
            print(f"  outer fold {category}: selected {name} at threshold {threshold:.3f}")
        metrics[f"nab_{profile.name}_nested"] = nested.score
        params[f"selected_{profile.name}"] = chosen
    if not args.no_tracking:
        tags = {"split": "held-out"}
        Tracker(args.tracking_uri).log_run(EXPERIMENT, "selection", params, metrics, tags=tags)


if __name__ == "__main__":
    sys.exit(main())
