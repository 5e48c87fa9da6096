"""Feature extraction is total: every valid incident gets every feature, all finite."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.repair import FEATURE_NAMES, IncidentRecord, Signal, incident_features
from selfheal_ml.repair.features import feature_frame
from selfheal_ml.repair.incident import METRIC_FAMILIES, incident_signature

metrics = st.sampled_from([*METRIC_FAMILIES, "http_error_ratio", "db_connections_max", "x_y"])
optional_text = st.none() | st.sampled_from(["tackle.io", "leadsite.ai", "", "postgres"])
scores = st.floats(allow_nan=True, allow_infinity=True)
signals = st.builds(
    Signal,
    metric=metrics | st.text(max_size=12),
    score=scores,
    platform=optional_text,
    dependency=optional_text,
    status_class=st.none() | st.sampled_from(["4xx", "5xx", "weird"]),
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
records = st.builds(
    IncidentRecord,
    opened_at=moments,
    signals=st.lists(signals, max_size=30).map(tuple),
    platforms=st.lists(st.text(max_size=8), max_size=5).map(tuple),
    config_change_age_s=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    similar_incidents_7d=st.integers(min_value=-5, max_value=10_000),
)


@settings(max_examples=150, deadline=None)
@given(records)
def test_features_are_total_and_finite(record: IncidentRecord) -> None:
    features = incident_features(record)
    assert tuple(features) == FEATURE_NAMES
    assert all(isinstance(value, float) and math.isfinite(value) for value in features.values())
    assert all(features[name] >= 0.0 for name in FEATURE_NAMES if name.endswith(("_up", "_down")))
    assert isinstance(incident_signature(record), str)


def test_symptoms_map_to_their_families() -> None:
    record = IncidentRecord(
        opened_at=datetime(2026, 1, 10, 18, tzinfo=UTC),  # a Saturday
        signals=(
            Signal("http_error_ratio", 12.0, platform="a", status_class="5xx"),
            Signal("http_error_ratio", 7.0, platform="a", status_class="4xx"),
            Signal("host_cpu_percent", -6.0, platform="a"),
            Signal("db_up", -40.0, dependency="postgres"),
        ),
        config_change_age_s=3600.0,
        similar_incidents_7d=2,
    )
    features = incident_features(record)
    assert features["errors_5xx_up"] == 12.0
    assert features["errors_4xx_up"] == 7.0
    assert features["cpu_down"] == 6.0 and features["cpu_up"] == 0.0
    assert features["db_up_down"] == 40.0
    assert features["platforms_anomalous"] == 1.0
    assert features["dependencies_anomalous"] == 1.0
    assert features["config_change_recent"] == 0.0 and features["config_change_age_h"] == 1.0
    assert features["weekend"] == 1.0
    assert features["similar_incidents_7d"] == 2.0


def test_features_carry_no_ground_truth() -> None:
    assert not any("fault" in name or "kind" in name for name in FEATURE_NAMES)


def test_time_of_day_is_cyclic() -> None:
    base = datetime(2026, 1, 5, tzinfo=UTC)
    late = incident_features(IncidentRecord(opened_at=base - timedelta(minutes=1)))
    early = incident_features(IncidentRecord(opened_at=base))
    assert abs(late["hour_sin"] - early["hour_sin"]) < 0.01
    assert abs(late["hour_cos"] - early["hour_cos"]) < 0.01


def test_feature_frame_has_the_fixed_schema() -> None:
    frame = feature_frame([{"cpu_up": 1.0, "unknown": 3.0}, {}])
    assert list(frame.columns) == list(FEATURE_NAMES)
    assert frame.shape == (2, len(FEATURE_NAMES))
    assert (frame.dtypes == "float64").all()
    assert frame.loc[1].sum() == 0.0
