"""NAB scoring: the Numenta Anomaly Benchmark's window-based score, from its published description.

A detector writes one anomaly score per row. For a threshold ``t`` a row is a *detection* when its
score is ``>= t``. Each file's first ``min(floor(0.15 n), 750)`` rows are probationary and never
count. Inside a label window only the earliest detection counts, worth ``A_TP`` times a scaled
sigmoid of its position (1.0 at the window's first row, ~0 at its last); a window without a
detection costs ``A_FN``; a detection outside every window costs ``A_FP`` times a scaled sigmoid of
its distance past the previous window's end (in window widths, full cost after three widths or
before any window). One threshold per profile is chosen over the whole corpus (an exact sweep over
every distinct score), and the raw total is normalised to ``100 (raw - null) / (perfect - null)``.

Everything here is pure: callers load the CSVs and label windows and pass arrays in.

>>> profile = PROFILES["standard"]
>>> labelled = LabelledFile.build(scores=[0.0] * 10 + [0.9] + [0.0] * 9, windows=[(10, 14)])
>>> round(file_score(labelled, 0.5, profile), 6)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 750


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB scoring profile (``profiles.json``'s CostMatrix)."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


def profiles_from_json(document: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[Profile]:
    """Profiles from the parsed ``profiles.json`` document (name -> CostMatrix weights)."""
    return [
        Profile(name, cm["tpWeight"], cm["fpWeight"], cm["fnWeight"])
        for name, body in document.items()
        for cm in [body["CostMatrix"]]
    ]


def scaled_sigmoid(position: float) -> float:
    """NAB's ``S(y) = 2 / (1 + e^(5y)) - 1``, and -1 beyond three window widths.

    >>> round(scaled_sigmoid(-1.0), 5), scaled_sigmoid(0.0), scaled_sigmoid(3.5)
    (0.98661, 0.0, -1.0)
    """
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(n_rows: int) -> int:
    """Rows at the start of a file that are never scored.

    >>> probation_rows(1000), probation_rows(10000)
    (150, 750)
    """
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_CAP_ROWS)


@dataclass(frozen=True)
class LabelledFile:
    """One file ready to score: per row its score, window id (-1 outside) and unit weights.

    ``tp_unit`` is the row's true-positive value as a fraction of ``A_TP`` (scaled sigmoid of its
    position divided by ``S(-1)``), ``fp_unit`` its false-positive sigmoid (negative, before
    ``A_FP``). Probationary rows carry window id -2 and are ignored.
    """

    scores: npt.NDArray[np.float64]
    window_ids: npt.NDArray[np.int64]
    tp_unit: npt.NDArray[np.float64]
    fp_unit: npt.NDArray[np.float64]
    n_windows: int

    @classmethod
    def build(
        cls, scores: Sequence[float] | npt.NDArray[np.float64], windows: Sequence[tuple[int, int]]
    ) -> LabelledFile:
        """From per-row scores and inclusive ``(first_row, last_row)`` windows, in time order."""
        n_rows = len(scores)
        window_ids = np.full(n_rows, -1, dtype=np.int64)
        tp_unit = np.zeros(n_rows)
        fp_unit = np.full(n_rows, -1.0)
        max_tp = scaled_sigmoid(-1.0)
        previous_end: int | None = None
        previous_width = 0
        for index, (first, last) in enumerate(windows):
            width = last - first + 1
            if previous_end is not None:
                _fill_after_window(fp_unit, previous_end, previous_width, first)
            rows = np.arange(first, last + 1)
            window_ids[first : last + 1] = index
            tp_unit[first : last + 1] = [scaled_sigmoid(-(last - r + 1) / width) for r in rows]
            tp_unit[first : last + 1] /= max_tp
            previous_end, previous_width = last, width
        if previous_end is not None:
            _fill_after_window(fp_unit, previous_end, previous_width, n_rows)
        window_ids[: probation_rows(n_rows)] = -2
        return cls(np.asarray(scores, dtype=np.float64), window_ids, tp_unit, fp_unit, len(windows))


def _fill_after_window(
    fp_unit: npt.NDArray[np.float64], window_end: int, window_width: int, stop: int
) -> None:
    """False-positive sigmoid for rows after a window, up to (excluding) ``stop``."""
    denominator = max(window_width - 1, 1)
    for row in range(window_end + 1, stop):
        fp_unit[row] = scaled_sigmoid((row - window_end) / denominator)


def window_rows(
    timestamps: Sequence[str], windows: Sequence[Sequence[str]]
) -> list[tuple[int, int]]:
    """Row indices of inclusive ``[start, end]`` timestamp windows (any ISO-like spelling).

    >>> window_rows(["2014-01-01 00:00:00", "2014-01-01 00:05:00", "2014-01-01 00:10:00"],
    ...             [["2014-01-01 00:05:00.000000", "2014-01-01 00:10:00.000000"]])
    [(1, 2)]
    """
    rows = {
        np.datetime64(stamp.replace(" ", "T"), "s"): index for index, stamp in enumerate(timestamps)
    }
    return [
        (
            rows[np.datetime64(start.replace(" ", "T"), "s")],
            rows[np.datetime64(end.replace(" ", "T"), "s")],
        )
        for start, end in windows
    ]


def file_score(labelled: LabelledFile, threshold: float, profile: Profile) -> float:
    """Raw NAB score of one file at one threshold.

    >>> f = LabelledFile.build(scores=[0.0] * 10 + [0.0, 0.0, 0.0, 0.0, 0.0], windows=[(10, 14)])
    >>> file_score(f, 0.5, PROFILES["standard"])
    -1.0
    """
    detected = labelled.scores >= threshold
    outside = detected & (labelled.window_ids == -1)
    total = profile.fp_weight * float(labelled.fp_unit[outside].sum())
    for window in range(labelled.n_windows):
        hits = detected & (labelled.window_ids == window)
        if hits.any():
            total += profile.tp_weight * float(labelled.tp_unit[hits].max())
        else:
            total -= profile.fn_weight
    return total


def null_score(files: Sequence[LabelledFile], profile: Profile) -> float:
    """The corpus score of a detector that never fires."""
    return -profile.fn_weight * sum(f.n_windows for f in files)


def perfect_score(files: Sequence[LabelledFile], profile: Profile) -> float:
    """The corpus score of a detector firing exactly at every window's first row."""
    return profile.tp_weight * sum(f.n_windows for f in files)


def normalise(raw: float, files: Sequence[LabelledFile], profile: Profile) -> float:
    """``100 (raw - null) / (perfect - null)``."""
    null = null_score(files, profile)
    span = perfect_score(files, profile) - null
    return 100.0 * (raw - null) / span if span else 0.0


def corpus_score(files: Sequence[LabelledFile], threshold: float, profile: Profile) -> float:
    """Normalised corpus score at one fixed threshold."""
    raw = sum(file_score(f, threshold, profile) for f in files)
    return normalise(raw, files, profile)


@dataclass(frozen=True)
class SweepResult:
    """The best threshold of a profile over a corpus and its scores."""

    profile: str
    threshold: float
    raw_score: float
    normalised_score: float


def sweep(files: Sequence[LabelledFile], profile: Profile) -> SweepResult:
    """Exact threshold sweep: tries every distinct score (and 'never fire') over the corpus.

    Vectorised: rows sorted by decreasing score; each row's change of the raw total when the
    threshold drops to its score is its false-positive cost outside windows, and inside a
    window the rise of the window's best true-positive value (plus ``A_FN`` at its first
    detection); the total at each distinct score is the running sum at its last row.
    """
    scores, window_keys, tp_unit, fp_unit = _stack(files)
    null = null_score(files, profile)
    if scores.size == 0:
        return SweepResult(profile.name, math.inf, null, normalise(null, files, profile))
    order = np.argsort(-scores, kind="stable")
    ranked_keys = window_keys[order]
    change = np.where(ranked_keys < 0, profile.fp_weight * fp_unit[order], 0.0)
    inside = np.flatnonzero(ranked_keys >= 0)
    if inside.size:
        keys = ranked_keys[inside]
        values = profile.tp_weight * tp_unit[order][inside]
        by_window = np.lexsort((inside, keys))  # per window, in ranked order
        grouped_keys, grouped_values = keys[by_window], values[by_window]
        starts = np.r_[True, grouped_keys[1:] != grouped_keys[:-1]]
        best = _running_max_by_group(grouped_values, starts)
        previous = np.where(starts, 0.0, np.r_[0.0, best[:-1]])
        gain = best - previous + np.where(starts, profile.fn_weight, 0.0)
        change[inside[by_window]] = gain
    totals = null + np.cumsum(change)
    ranked_scores = scores[order]
    last_of_level = np.r_[ranked_scores[1:] != ranked_scores[:-1], True]
    level_totals = totals[last_of_level]
    best_index = int(np.argmax(level_totals))
    if level_totals[best_index] <= null:
        return SweepResult(profile.name, math.inf, null, normalise(null, files, profile))
    best_raw = float(level_totals[best_index])
    threshold = float(ranked_scores[last_of_level][best_index])
    return SweepResult(profile.name, threshold, best_raw, normalise(best_raw, files, profile))


def _running_max_by_group(
    values: npt.NDArray[np.float64], starts: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Running maximum of ``values`` restarting where ``starts`` is True (values >= 0)."""
    group = np.cumsum(starts)
    offset = group.astype(np.float64) * (float(values.max(initial=0.0)) + 1.0)
    return np.maximum.accumulate(values + offset) - offset


def _stack(
    files: Sequence[LabelledFile],
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """Scored rows of every file, with windows renumbered corpus-wide (-1 = outside)."""
    scores, keys, tp_parts, fp_parts = [], [], [], []
    offset = 0
    for labelled in files:
        scored = labelled.window_ids != -2
        ids = labelled.window_ids[scored]
        keys.append(np.where(ids >= 0, ids + offset, -1))
        scores.append(labelled.scores[scored])
        tp_parts.append(labelled.tp_unit[scored])
        fp_parts.append(labelled.fp_unit[scored])
        offset += labelled.n_windows
    return (
        np.concatenate(scores),
        np.concatenate(keys),
        np.concatenate(tp_parts),
        np.concatenate(fp_parts),
    )


@dataclass(frozen=True)
class CrossValidation:
    """Leave-one-category-out estimate of the score of *selecting* among candidate detectors."""

    profile: str
    normalised_score: float
    choices: dict[str, tuple[str, float]]


def cross_validate(
    results: Mapping[str, Mapping[str, LabelledFile]], profile: Profile
) -> CrossValidation:
    """For each category (the part of a file key before ``/``): pick the candidate and threshold
    that score best on the other categories, score the held-out category with them; sum.

    ``results`` maps candidate name -> file key (``category/file.csv``) -> labelled file; every
    candidate must cover the same files. ``choices`` maps category -> (candidate, threshold).
    """
    keys = sorted(next(iter(results.values())))
    categories = sorted({key.split("/")[0] for key in keys})
    held_out_raw = 0.0
    choices: dict[str, tuple[str, float]] = {}
    for category in categories:
        train = [key for key in keys if not key.startswith(category + "/")]
        test = [key for key in keys if key.startswith(category + "/")]
        best = max(
            (
                (name, sweep([files[key] for key in train], profile))
                for name, files in results.items()
            ),
            key=lambda pair: pair[1].raw_score,
        )
        name, fitted = best
        choices[category] = (name, fitted.threshold)
        held_out_raw += sum(
            file_score(results[name][key], fitted.threshold, profile) for key in test
        )
    every = [next(iter(results.values()))[key] for key in keys]
    return CrossValidation(profile.name, normalise(held_out_raw, every, profile), choices)
