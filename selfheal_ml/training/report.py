"""Human-readable outputs of a training run: the confusion-matrix figure and the model card.

The figure is drawn with matplotlib's object API on an Agg canvas (no display needed). The
model card (``models/repair-strategy.md``) is rendered from the :class:`TrainingReport` of
the run that just finished, so the shipped card always matches the last run.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from selfheal_ml.repair.features import FEATURE_NAMES
from selfheal_ml.repair.metrics import Scores

if TYPE_CHECKING:
    from selfheal_ml.training.train import TrainingReport


def confusion_figure(scores: Scores, title: str) -> Figure:
    """The confusion matrix (rows: truth, columns: prediction) as a figure."""
    size = max(4.0, 0.55 * len(scores.labels) + 2.0)
    figure = Figure(figsize=(size, size))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    matrix = [list(row) for row in scores.confusion] or [[0]]
    axes.imshow(matrix, cmap="Blues")
    ticks = list(range(len(scores.labels)))
    axes.set_xticks(ticks, labels=list(scores.labels), rotation=60, ha="right", fontsize=8)
    axes.set_yticks(ticks, labels=list(scores.labels), fontsize=8)
    for row, values in enumerate(scores.confusion):
        for column, value in enumerate(values):
            if value:
                axes.text(column, row, str(value), ha="center", va="center", fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (strategy that worked)")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def _when(moment: datetime | None) -> str:
    return "n/a" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _row(name: str, scores: Scores) -> str:
    return (
        f"| {name} | {scores.accuracy:.3f} | {scores.macro_f1:.3f} |"
        f" {scores.top2_accuracy:.3f} | {scores.brier:.3f} |"
    )


_PURPOSE = """## What it does

Given the features of an open incident (what the monitors observed, never the fault itself),
ranks the repair strategies by the probability that each one is the strategy that works.
Served by `POST /v1/repair/recommend` and the Repair agent's advice; below a confidence floor
or without a champion, documented rules decide and a human must confirm. The service loads the
`@champion` from its serving form, logged beside the skops model (`extra_files/serving_form.json`
and `.npz`: coefficients or tree nodes, `selfheal_ml/serving/`), and predicts with numpy alone,
so serving it imports no scikit-learn; a version without one is loaded with scikit-learn.
"""

_USE_AND_LIMITS = """## Intended use

Decision support for the Repair agent and on-call engineers: which low-risk repair to try
first, with the runner-up as the second choice (see top-2 accuracy).

## Known limits

- Trained on simulated incidents (selfheal_ml.sim): one fault at a time, eleven fault kinds;
  real platforms have faults it has never seen.
- Features come from a snapshot at detection, with collector gaps: a fault detected early, or
  whose exporter was missing, can look like another (memory leak vs disk filling vs traffic
  surge); benign campaigns and config changes blur them further.
- Labels come from verified outcomes, which give false credit when a fault ends by itself
  during verification.
- Probabilities are not calibrated beyond what the Brier score shows; the confidence floor and
  the human confirmation exist for that reason.
- It recommends strategies, not targets or parameters; the safety guard still decides whether
  anything runs.
"""


def _data_section(report: TrainingReport) -> list[str]:
    train_start, train_end = report.train_window
    holdout_start, holdout_end = report.holdout_window
    return [
        "## Data and window",
        "",
        f"- source: {report.data_source}",
        f"- training window: {_when(train_start)} .. {_when(train_end)}"
        f" ({report.train_count} labelled incidents; the last 20 % by time are the"
        " validation split)",
        f"- holdout window: {_when(holdout_start)} .. {_when(holdout_end)}"
        f" ({report.holdout_count} labelled incidents, later in time, different seed)",
        "- label: the repair strategy whose verified outcome was `worked`",
        "",
        "## Features",
        "",
        f"{len(FEATURE_NAMES)} floats (see `selfheal_ml/repair/features.py`):",
        ", ".join(f"`{name}`" for name in FEATURE_NAMES) + ".",
        "",
    ]


def _results_section(report: TrainingReport) -> list[str]:
    rows = [_row(f"{c.name} (candidate)", c.holdout) for c in report.candidates]
    rows += [_row(f"{name} (baseline)", scores) for name, scores in report.baselines.items()]
    previous = report.champion_holdout
    compared = (
        f" The previous champion scored macro-F1 {previous.macro_f1:.3f}, top-2"
        f" {previous.top2_accuracy:.3f} on the same holdout."
        if previous is not None
        else ""
    )
    outcome = "promoted" if report.decision.promote else "kept as challenger"
    return [
        "## Candidates and baselines (holdout)",
        "",
        "| model | accuracy | macro-F1 | top-2 accuracy | Brier |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Selected by validation macro-F1: **{report.best.name}**, registered as version"
        f" {report.version}. Promotion gate: {report.decision.reason} ({outcome}).{compared}",
        "Current champion (`models:/repair-strategy@champion`): version"
        f" {report.champion_version or 'none'}.",
        f"Training time of the candidates: {report.fit_s:.1f} s.",
        "",
    ]


def model_card(report: TrainingReport) -> str:
    """The model card of one training run, as Markdown."""
    header = [
        "# Model card: repair-strategy",
        "",
        "_Written by `pipelines/train_repair_classifier.py`; regenerated on every run._",
        "",
        _PURPOSE,
    ]
    sections = header + _data_section(report) + _results_section(report) + [_USE_AND_LIMITS]
    return "\n".join(sections)
