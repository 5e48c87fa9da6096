"""The series scorer: which points the gate and the alert policy see."""

from __future__ import annotations

import pytest

from selfheal_ml.anomaly.bank import DetectorBank
from selfheal_ml.anomaly.registry import default_detector
from selfheal_ml.anomaly.scoring import SeriesScorer


def test_a_point_no_higher_than_expected_starts_no_suppression() -> None:
    """Held-out 7023: a stuck job's first point, its age 0.002 s past a constant 30 s, scored
    100 inside its range and fired; the agent dropped it as good news, and the policy's
    suppression then hid the job's growing age. On a metric where only a rise is trouble, a
    point within its range is no evidence at all."""

    def run(rises_only: bool) -> list[bool]:
        scorer = SeriesScorer(default_detector(), rises_only=rises_only)
        for i in range(600):
            scorer.process(30.0 * i, 30.0)
        ages = [30.002, 60.002, 90.002, 120.002]
        return [scorer.process(30.0 * (600 + k), age).is_anomaly for k, age in enumerate(ages)]

    assert run(rises_only=True)[0] is False and any(run(rises_only=True)[1:])
    assert run(rises_only=False)[0] is True and not any(run(rises_only=False)[1:])


@pytest.mark.parametrize(
    ("series", "rises_only"),
    [
        ('http_5xx_per_s{platform="a"}', True),  # errors back to zero are good news
        ('http_latency_p95_ms{platform="a"}', True),  # so are faster answers
        ('host_cpu_percent{platform="a"}', False),  # idle CPU: a crashed service
        ('http_requests_per_s{platform="a"}', False),  # traffic gone
    ],
)
def test_the_bank_knows_which_metrics_only_rise_into_trouble(series: str, rises_only: bool) -> None:
    bank = DetectorBank()
    bank.score(series, 0.0, 1.0)
    assert bank.scorers([series])[series].rises_only is rises_only
