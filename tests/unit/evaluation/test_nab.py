"""NAB scoring on hand-made files; every expected number is worked out in the comments.

Scaled sigmoid S(y) = 2 / (1 + e^(5y)) - 1, so S(-1) = 0.986614, S(-0.6) = 0.905148,
S(0.5) = -0.848284. A 20-row file has floor(0.15 * 20) = 3 probationary rows (0, 1, 2).
The window used below covers rows 10..14 (width 5).
"""

from __future__ import annotations

import math

import pytest

from selfheal_ml.evaluation import nab

STANDARD = nab.PROFILES["standard"]
LOW_FP = nab.PROFILES["reward_low_FP_rate"]
LOW_FN = nab.PROFILES["reward_low_FN_rate"]
WINDOW = (10, 14)


def one_hot(*rows: int, n_rows: int = 20, level: float = 1.0) -> list[float]:
    scores = [0.0] * n_rows
    for row in rows:
        scores[row] = level
    return scores


def test_scaled_sigmoid_values() -> None:
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.986614, abs=1e-6)
    assert nab.scaled_sigmoid(0.5) == pytest.approx(-0.848284, abs=1e-6)
    assert nab.scaled_sigmoid(3.01) == -1.0


def test_probation_length() -> None:
    # min(floor(0.15 n), 750): 20 -> 3, 5000 -> 750, 10000 -> 750
    assert [nab.probation_rows(n) for n in (20, 5000, 10000)] == [3, 750, 750]


def test_detection_at_window_start_is_worth_one_tp() -> None:
    # row 10: position -(14 - 10 + 1) / 5 = -1 -> S(-1) / S(-1) = 1.0
    labelled = nab.LabelledFile.build(one_hot(10), [WINDOW])
    assert nab.file_score(labelled, 0.5, STANDARD) == pytest.approx(1.0)


def test_later_detection_is_worth_less_and_only_the_earliest_counts() -> None:
    # row 12: position -(14 - 12 + 1) / 5 = -0.6 -> 0.905148 / 0.986614 = 0.917429;
    # the extra detection at row 13 inside the same window adds nothing
    labelled = nab.LabelledFile.build(one_hot(12, 13), [WINDOW])
    assert nab.file_score(labelled, 0.5, STANDARD) == pytest.approx(0.917429, abs=1e-6)


def test_missed_window_costs_the_fn_weight() -> None:
    labelled = nab.LabelledFile.build(one_hot(), [WINDOW])
    assert nab.file_score(labelled, 0.5, STANDARD) == -1.0
    assert nab.file_score(labelled, 0.5, LOW_FN) == -2.0


def test_false_positive_before_any_window_costs_full_fp_weight() -> None:
    # row 5 is before the window: -1 * A_FP = -0.11 (standard), -0.22 (low FP); the window
    # detection at row 10 adds +1
    labelled = nab.LabelledFile.build(one_hot(5, 10), [WINDOW])
    assert nab.file_score(labelled, 0.5, STANDARD) == pytest.approx(1.0 - 0.11)
    assert nab.file_score(labelled, 0.5, LOW_FP) == pytest.approx(1.0 - 0.22)


def test_false_positive_shortly_after_a_window_costs_less() -> None:
    # row 16: |14 - 16| / (5 - 1) = 0.5 -> S(0.5) = -0.848284, times 0.11 = -0.093311
    labelled = nab.LabelledFile.build(one_hot(10, 16), [WINDOW])
    assert nab.file_score(labelled, 0.5, STANDARD) == pytest.approx(1.0 - 0.093311, abs=1e-6)


def test_probationary_rows_never_count() -> None:
    # row 1 is probationary: no false positive; the window is missed -> -1
    labelled = nab.LabelledFile.build(one_hot(1), [WINDOW])
    assert nab.file_score(labelled, 0.5, STANDARD) == -1.0


def test_normalisation_against_null_and_perfect() -> None:
    # two files, one window each: null = -2, perfect = +2; file A hits its window start (+1),
    # file B misses (-1): raw 0 -> 100 * (0 + 2) / (2 + 2) = 50
    files = [
        nab.LabelledFile.build(one_hot(10), [WINDOW]),
        nab.LabelledFile.build(one_hot(), [WINDOW]),
    ]
    assert nab.null_score(files, STANDARD) == -2.0
    assert nab.perfect_score(files, STANDARD) == 2.0
    assert nab.corpus_score(files, 0.5, STANDARD) == pytest.approx(50.0)


def test_sweep_picks_the_best_corpus_threshold() -> None:
    # scores: window start row 10 at 0.9, a false positive at row 5 at 0.95, noise at 0.3 on
    # rows 3..9. Threshold 0.95: FP only -> -0.11 - 1 = -1.11. Threshold 0.9: +1 - 0.11 = 0.89.
    # Threshold 0.3: 7 more FPs before the window -> 0.89 - 6 * 0.11 (row 5 already counted)
    # = 0.23. Never firing: -1. Best: 0.9 -> 100 * (0.89 + 1) / 2 = 94.5
    scores = [0.0] * 20
    scores[3:10] = [0.3] * 7
    scores[5], scores[10] = 0.95, 0.9
    result = nab.sweep([nab.LabelledFile.build(scores, [WINDOW])], STANDARD)
    assert result.threshold == 0.9
    assert result.raw_score == pytest.approx(0.89)
    assert result.normalised_score == pytest.approx(94.5)


def test_sweep_falls_back_to_never_firing() -> None:
    # 200 rows (30 probationary), window 100..104, every score 0.0: threshold 0 detects every
    # row: +1 for the window but 70 false positives on rows 30..99 cost 70 * 0.11 = 7.7 (and
    # more after the window), worse than missing the window (-1), so "never fire" wins: 0.
    result = nab.sweep([nab.LabelledFile.build([0.0] * 200, [(100, 104)])], STANDARD)
    assert math.isinf(result.threshold)
    assert result.raw_score == -1.0 and result.normalised_score == 0.0


def test_firing_everywhere_is_a_candidate_threshold_too() -> None:
    # as in NAB, the lowest score is a threshold: on the 20-row file every row from 3 on is a
    # detection: +1 (row 10) - 7 * 0.11 (rows 3..9) + 0.11 * (S(0.25) + S(0.5) + S(0.75) + S(1)
    # + S(1.25)) for rows 15..19 = -0.247366 > -1 (never firing)
    result = nab.sweep([nab.LabelledFile.build(one_hot(), [WINDOW])], STANDARD)
    assert result.threshold == 0.0
    assert result.raw_score == pytest.approx(-0.247366, abs=1e-6)


def test_window_rows_match_timestamps_in_either_spelling() -> None:
    stamps = [f"2014-04-01 00:{minute:02d}:00" for minute in range(10)]
    windows = [["2014-04-01 00:02:00.000000", "2014-04-01 00:04:00.000000"]]
    assert nab.window_rows(stamps, windows) == [(2, 4)]


def test_profiles_from_json_document() -> None:
    document = {"p": {"CostMatrix": {"tpWeight": 1.0, "fpWeight": 0.5, "fnWeight": 3.0}}}
    assert nab.profiles_from_json(document) == [nab.Profile("p", 1.0, 0.5, 3.0)]


def test_cross_validation_selects_on_the_other_categories() -> None:
    # candidate "good" hits every window start, "bad" misses every window: whichever category
    # is held out, "good" wins on the others, so the estimate is the perfect 100
    good = {f"c{i}/f.csv": nab.LabelledFile.build(one_hot(10), [WINDOW]) for i in range(3)}
    bad = {f"c{i}/f.csv": nab.LabelledFile.build(one_hot(), [WINDOW]) for i in range(3)}
    estimate = nab.cross_validate({"good": good, "bad": bad}, STANDARD)
    assert estimate.normalised_score == pytest.approx(100.0)
    assert {name for name, _ in estimate.choices.values()} == {"good"}
