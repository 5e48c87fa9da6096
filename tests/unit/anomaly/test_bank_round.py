"""The bank's round path (:meth:`DetectorBank.score_round`, the Predictive agent's, once per
collection round) against the per-point path (:meth:`DetectorBank.score`): the same verdicts,
refusals and state for any round, which a property test holds it to (issue 20)."""

from __future__ import annotations

import math
import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfheal_ml.anomaly.bank import DetectorBank, Rejected
from selfheal_ml.anomaly.scoring import PointScore, ScoringConfig
from selfheal_ml.errors import ValidationError

# young series and a cold start, so that the first points already go through every stage
CONFIG = ScoringConfig(cold_start_points=40, cold_start_min_points=5, young_points=60)
NAMES = ("api.latency_ms", "db.connections", 'cache_hit_ratio{target="redis"}')
VALUES = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1e9]),
)
POINT = st.tuples(st.sampled_from(NAMES), st.integers(min_value=-2, max_value=3), VALUES)
ROUNDS = st.lists(st.lists(POINT, max_size=8), min_size=1, max_size=25)


def _per_point(bank: DetectorBank, series: str, ts_s: float, value: float) -> object:
    try:
        return bank.score(series, ts_s, value)
    except ValidationError as exc:
        return Rejected(str(exc))


def _same(left: object, right: object) -> bool:
    """Equal verdicts, NaN included (a NaN score equals a NaN score here)."""
    if isinstance(left, PointScore) and isinstance(right, PointScore):
        return all(
            a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)
            for a, b in zip(left, right, strict=True)
        )
    return left == right


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds=ROUNDS)
def test_the_round_path_gives_the_per_point_verdicts_and_state(
    rounds: list[list[tuple[str, int, float]]],
) -> None:
    """Rounds of a few series, 30 s apart, with points a round late, early or twice, values
    that are not finite and a gross spike now and then: verdict for verdict and scorer for
    scorer, the round path is the per-point path."""
    one_by_one, by_round = DetectorBank(config=CONFIG), DetectorBank(config=CONFIG)
    for step, points in enumerate(rounds):
        series = [name for name, _, _ in points]
        stamps = [30.0 * (step + offset) for _, offset, _ in points]
        values = [value for _, _, value in points]
        expected = [
            _per_point(one_by_one, *point) for point in zip(series, stamps, values, strict=True)
        ]
        got = by_round.score_round(series, stamps, values)
        assert len(got) == len(expected)
        assert all(_same(a, b) for a, b in zip(got, expected, strict=True)), (got, expected)
    assert one_by_one.series() == by_round.series()
    for name in one_by_one.series():
        ours, theirs = by_round.scorers([name])[name], one_by_one.scorers([name])[name]
        assert pickle.dumps(ours) == pickle.dumps(theirs)


def test_a_long_round_path_after_warm_up_flags_what_the_per_point_path_flags() -> None:
    """Past the warm-up (350 rounds of 3 series), a spike on one series: both paths flag it,
    with the same verdicts on every point of every round."""
    one_by_one, by_round = DetectorBank(config=CONFIG), DetectorBank(config=CONFIG)
    flagged = []
    for step in range(400):
        values = [100.0 + (step % 7), 20.0 + (step % 3), 0.9]
        if step == 390:
            values[0] = 5000.0
        stamps = [60.0 * step] * 3
        got = by_round.score_round(list(NAMES), stamps, values)
        expected = [one_by_one.score(*p) for p in zip(NAMES, stamps, values, strict=True)]
        assert got == expected
        flagged += [(step, name) for name, v in zip(NAMES, got, strict=True)
                    if isinstance(v, PointScore) and v.is_anomaly]  # fmt: skip
    assert (390, NAMES[0]) in flagged


def test_columns_of_different_lengths_are_refused_naming_the_field() -> None:
    bank = DetectorBank()
    try:
        bank.score_round(["a", "b"], [1.0], [1.0, 2.0])
    except ValidationError as exc:
        assert exc.field == "values"
    else:  # pragma: no cover - the assertion's message
        raise AssertionError("expected a ValidationError")
