"""The training pipeline behind ``pipelines/train_repair_classifier.py`` and the CLI.

Generates a labelled history from the simulator (seed ``--seed``, ``--days`` from
``--start``) and a later holdout history from a different seed, optionally stores both in a
DuckDB file, trains and logs every candidate to MLflow, registers the best, runs the promotion
gate and writes the model card. Progress shows on stderr (tqdm).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

from selfheal_ml.repair.promotion import DEFAULT_MARGIN
from selfheal_ml.repair_training_options import add_arguments, card_path
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.incidents import HistoryIncident, IncidentStore
from selfheal_ml.tracking import DEFAULT_TRACKING_URI, Tracker
from selfheal_ml.training.datasets import Dataset
from selfheal_ml.training.generate import generate_history
from selfheal_ml.training.report import model_card
from selfheal_ml.training.train import TrainingReport, train_and_register

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class PipelineOptions:
    """What to generate, where to log and where to write."""

    incidents: int = 5000
    holdout_incidents: int = 1000
    days: float = 180.0
    seed: int = 11
    holdout_seed: int = 12
    start: datetime = DEFAULT_START
    tracking_uri: str = DEFAULT_TRACKING_URI
    card_path: Path | None = None  # the model card is written only when asked
    db_path: Path | None = None
    workers: int = 2
    margin: float = DEFAULT_MARGIN


@dataclass(frozen=True)
class PipelineResult:
    """The training report plus wall-clock timings."""

    report: TrainingReport
    generate_s: float
    train_s: float


def _history(
    seed: int, count: int, start: datetime, days: float, workers: int, label: str
) -> list[HistoryIncident]:
    with tqdm(total=count, desc=f"simulating {label} incidents", unit="incident") as bar:

        def advance(done: int) -> None:
            bar.update(done)

        return generate_history(seed, count, start, days, workers=workers, progress=advance)


def _generate(options: PipelineOptions) -> tuple[list[HistoryIncident], list[HistoryIncident]]:
    """The training history and the later holdout history (another seed)."""
    train = _history(
        options.seed, options.incidents, options.start, options.days, options.workers, "training"
    )
    holdout = _history(
        options.holdout_seed,
        options.holdout_incidents,
        options.start + timedelta(days=options.days),
        _holdout_days(options),
        options.workers,
        "holdout",
    )
    return train, holdout


def _holdout_days(options: PipelineOptions) -> float:
    return max(1.0, options.days * options.holdout_incidents / max(options.incidents, 1))


def _data_source(options: PipelineOptions) -> str:
    return (
        f"simulator: {options.incidents} planned faults over {options.days:g} days (seed"
        f" {options.seed}), holdout {options.holdout_incidents} planned faults in the"
        f" following {_holdout_days(options):g} days (seed {options.holdout_seed})"
    )


def _train(options: PipelineOptions, train: Dataset, holdout: Dataset) -> TrainingReport:
    with tqdm(total=3, desc="training candidates", unit="model") as bar:

        def show(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        report = train_and_register(
            Tracker(options.tracking_uri),
            train,
            holdout,
            seed=options.seed,
            margin=options.margin,
            progress=show,
        )
    return dataclasses.replace(report, data_source=_data_source(options))


def run_pipeline(options: PipelineOptions) -> PipelineResult:
    """Generate, train, log, register, gate, write the card."""
    if options.seed == options.holdout_seed:
        raise ValueError("holdout_seed: expected a seed not used for training")
    started = time.perf_counter()
    train_history, holdout_history = _generate(options)
    generate_s = time.perf_counter() - started
    if options.db_path is not None:
        database = Database(options.db_path)
        try:
            IncidentStore(database).append_history(train_history + holdout_history)
        finally:
            database.close()
    started = time.perf_counter()
    train = Dataset.from_history(train_history)
    report = _train(options, train, Dataset.from_history(holdout_history))
    train_s = time.perf_counter() - started
    if options.card_path is not None:
        options.card_path.parent.mkdir(parents=True, exist_ok=True)
        options.card_path.write_text(model_card(report), encoding="utf-8")
    return PipelineResult(report, generate_s, train_s)


def parse_options(argv: Sequence[str] | None = None) -> PipelineOptions:
    """Command-line arguments (:mod:`selfheal_ml.repair_training_options`) to
    :class:`PipelineOptions`."""
    parser = argparse.ArgumentParser(description="Train the repair-strategy classifier.")
    add_arguments(parser)
    return options_from_args(parser.parse_args(argv))


def options_from_args(args: argparse.Namespace) -> PipelineOptions:
    """Parsed options to :class:`PipelineOptions` (no model card unless asked)."""
    card = card_path(args)
    return PipelineOptions(
        incidents=args.incidents,
        holdout_incidents=args.holdout_incidents,
        days=args.days,
        seed=args.seed,
        holdout_seed=args.holdout_seed,
        tracking_uri=args.tracking_uri or DEFAULT_TRACKING_URI,
        card_path=Path(card) if card else None,
        db_path=Path(args.db) if args.db else None,
        workers=args.workers,
        margin=args.margin,
    )


def summary(result: PipelineResult) -> str:
    """A few lines for the terminal."""
    report = result.report
    lines = [
        f"{c.name:24s} holdout macro-F1 {c.holdout.macro_f1:.3f} top-2"
        f" {c.holdout.top2_accuracy:.3f} Brier {c.holdout.brier:.3f} (fit {c.fit_s:.1f} s)"
        for c in report.candidates
    ]
    lines += [
        f"baseline {name:15s} holdout macro-F1 {s.macro_f1:.3f} top-2 {s.top2_accuracy:.3f}"
        f" Brier {s.brier:.3f}"
        for name, s in report.baselines.items()
    ]
    lines.append(
        f"registered repair-strategy v{report.version} ({report.best.name});"
        f" {report.decision.reason}; champion: v{report.champion_version}"
    )
    lines.append(f"generation {result.generate_s:.1f} s, training+logging {result.train_s:.1f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success, 1 when training could not run."""
    return run_main(parse_options(argv))


def run_main(options: PipelineOptions) -> int:
    """Train with ``options`` and print the summary: 0 on success, 1 when training could not
    run."""
    try:
        result = run_pipeline(options)
    except ValueError as exc:
        print(f"error: {exc}")
        return 1
    print(summary(result))
    if options.card_path is not None:
        print(f"model card written to {options.card_path}")
    return 0
