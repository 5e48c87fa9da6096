"""Forecast every M4 Hourly series, score the forecasts against the test values, log to MLflow.

Usage:

    python pipelines/backtest_m4.py --train ../shared/datasets/m4_hourly/Hourly-train-dev.csv \\
        --test ../shared/datasets/m4_hourly/Hourly-test-dev.csv --horizon 48 \\
        --out results/m4/forecasts.csv [--model ensemble --model seasonal_naive] \\
        [--tracking-uri sqlite:///mlruns/mlflow.db] [--workers 2] [--limit N] [--holdout]

Each model fits every training series (in ``--workers`` processes) and forecasts ``--horizon``
steps. Forecasts are written in the M4 submission layout (``id,F1..F48``) to ``--out`` (with
several models: ``<stem>-<model>.csv``), plus ``<stem>-lo-80.csv``, ``<stem>-hi-80.csv`` ... per
interval level. sMAPE, MASE, OWA (vs Naive2) and interval coverage are printed for the full
horizon and for the first 24 steps, with wall and CPU time, and each model is logged as one run
in the MLflow experiment ``forecast-m4-hourly``. The test values are only used for scoring.
``--holdout`` scores on the last ``--horizon`` values of each training series instead (the
split on which configurations are compared; the test file is then never read).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from selfheal_ml.errors import ValidationError

if TYPE_CHECKING:  # numpy, pandas, statsmodels and MLflow load after argparse: --help is instant
    import numpy as np

    from selfheal_ml.evaluation.m4 import AccuracyReport
    from selfheal_ml.forecast import BatchForecast

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # = selfheal_ml.tracking's

EXPERIMENT = "forecast-m4-hourly"
LEVELS = (80, 95)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True, help="M4 training CSV")
    parser.add_argument("--test", type=Path, help="test values (not needed with --holdout)")
    parser.add_argument("--horizon", type=int, default=48, help="steps to forecast (48)")
    parser.add_argument("--out", type=Path, required=True, help="forecasts CSV (M4 layout)")
    parser.add_argument(
        "--model",
        action="append",
        help="a forecaster of selfheal_ml.forecast.FORECASTERS, repeatable (default ensemble;"
        " an unknown name lists them)",
    )
    parser.add_argument(
        "--tracking-uri", default=DEFAULT_TRACKING_URI, help="MLflow tracking store"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes fitting (2)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N series")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="score on the last HORIZON values of each training series instead of --test "
        "(the model-selection split: the test values are never read)",
    )
    args = parser.parse_args(argv)
    if args.test is None and not args.holdout:
        parser.error("--test is required unless --holdout is given")
    from selfheal_ml.forecast import FORECASTERS

    unknown = sorted(set(args.model or ()) - set(FORECASTERS))
    if unknown:
        parser.error(f"--model: unknown {unknown}; expected one of {sorted(FORECASTERS)}")
    return args


def read_m4(path: Path, limit: int | None) -> dict[str, np.ndarray]:
    """``id -> values`` from an M4 CSV (first column the id, padded rows trimmed)."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(path, index_col=0, nrows=limit)
    return {
        str(series_id): row[~np.isnan(row)]
        for series_id, row in zip(frame.index, frame.to_numpy(dtype=np.float64), strict=True)
    }


def write_forecasts(out: Path, ids: list[str], batch: BatchForecast) -> list[Path]:
    """The mean in M4 layout at ``out``, one file per interval bound next to it."""
    import pandas as pd

    out.parent.mkdir(parents=True, exist_ok=True)
    tables = {out: batch.mean}
    for level in sorted(batch.lower):
        tables[out.with_name(f"{out.stem}-lo-{level}{out.suffix}")] = batch.lower[level]
        tables[out.with_name(f"{out.stem}-hi-{level}{out.suffix}")] = batch.upper[level]
    for path, values in tables.items():
        columns = [f"F{step}" for step in range(1, values.shape[1] + 1)]
        pd.DataFrame(values, index=pd.Index(ids, name="id"), columns=columns).to_csv(path)
    return list(tables)


def print_report(model: str, report: AccuracyReport, wall_s: float, cpu_s: float) -> None:
    coverage = "  ".join(f"cov{level} {share:.3f}" for level, share in report.coverage.items())
    print(
        f"{model:>20} h={report.horizon:<3} sMAPE {report.smape:7.3f}  MASE {report.mase:6.3f}  "
        f"OWA {report.owa:6.3f}  {coverage}  wall {wall_s:6.1f}s  cpu {cpu_s:6.1f}s  "
        f"(Naive2 sMAPE {report.naive2_smape:.3f} MASE {report.naive2_mase:.3f})"
    )


def split(args: argparse.Namespace) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Training histories by id and the actuals to score (test file or holdout cut)."""
    import numpy as np

    train = read_m4(args.train, args.limit)
    if args.holdout:
        actuals = np.vstack([values[-args.horizon :] for values in train.values()])
        return {key: values[: -args.horizon] for key, values in train.items()}, actuals
    test = read_m4(args.test, None)
    return train, np.vstack([test[series_id][: args.horizon] for series_id in train])


def run_model(
    model: str,
    args: argparse.Namespace,
    train: dict[str, np.ndarray],
    actuals: np.ndarray,
    out: Path,
) -> None:
    from tqdm import tqdm

    from selfheal_ml.evaluation.m4 import evaluate_m4
    from selfheal_ml.forecast import iter_forecasts, stack_forecasts
    from selfheal_ml.tracking import Tracker

    histories = list(train.values())
    started = time.perf_counter()
    progress = tqdm(
        iter_forecasts(histories, args.horizon, model, LEVELS, args.workers),
        total=len(histories),
        desc=model,
        file=sys.stderr,
    )
    batch = stack_forecasts(list(progress))
    wall_s = time.perf_counter() - started
    paths = write_forecasts(out, list(train), batch)
    intervals = {level: (batch.lower[level], batch.upper[level]) for level in batch.lower}
    metrics: dict[str, float] = {"wall_s": wall_s, "cpu_s": batch.cpu_s}
    for steps in sorted({args.horizon, min(24, args.horizon)}, reverse=True):
        report = evaluate_m4(histories, actuals, batch.mean, intervals, horizon=steps)
        print_report(model, report, wall_s, batch.cpu_s)
        metrics |= report.as_metrics()
    metrics["fallback_share"] = batch.fallback_count / len(histories)
    params = {
        "model": model,
        "horizon": args.horizon,
        "series": len(histories),
        "workers": args.workers,
        "split": "holdout" if args.holdout else "test",
    }
    Tracker(args.tracking_uri).log_run(EXPERIMENT, model, params, metrics, artifacts=paths)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    models = args.model or ["ensemble"]
    try:
        train, actuals = split(args)
        for model in models:
            out = args.out if len(models) == 1 else args.out.with_stem(f"{args.out.stem}-{model}")
            run_model(model, args, train, actuals, out)
    except (ValidationError, FileNotFoundError, KeyError) as error:
        print(f"backtest_m4: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
