"""Alert identity and the ingest shape: fingerprints, RFC3339 times, PostableAlert checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError as PydanticValidationError

from selfheal_ml.alerting.dispatch import first_flush_at, group_key, group_labels
from selfheal_ml.alerting.model import PostableAlert, fingerprint, format_rfc3339


def test_fingerprint_depends_on_labels_only_not_their_order() -> None:
    labels = {"alertname": "HighLatency", "platform": "leadsite.ai", "severity": "warning"}
    reordered = dict(reversed(list(labels.items())))
    assert fingerprint(labels) == fingerprint(reordered)
    assert fingerprint(labels) != fingerprint({**labels, "platform": "other"})
    assert len(fingerprint(labels)) == 16
    int(fingerprint(labels), 16)  # hex


def test_fingerprint_matches_prometheus_signature() -> None:
    # prometheus/common model/signature_test.go: LabelsToSignature uses the same FNV-1a scheme.
    assert int(fingerprint({"name": "garland, briggs", "fear": "love is not enough"}), 16) == (
        5799056148416392346
    )


def test_fingerprint_separates_names_from_values() -> None:
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})


def test_rfc3339_is_utc_with_z_suffix() -> None:
    moment = datetime(2026, 1, 5, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_rfc3339(moment) == "2026-01-05T00:00:00Z"
    assert format_rfc3339(None) == "0001-01-01T00:00:00Z"


def test_postable_alert_accepts_alertmanager_shape() -> None:
    alert = PostableAlert.model_validate(
        {
            "labels": {"alertname": "X", "severity": "critical"},
            "annotations": {"summary": "s"},
            "startsAt": "2026-01-05T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph",
        }
    )
    assert alert.starts_at == datetime(2026, 1, 5, tzinfo=UTC)
    assert alert.ends_at is None  # Go zero time means unset
    assert alert.generator_url == "http://prometheus/graph"


@pytest.mark.parametrize(
    "body",
    [
        {"labels": {}},
        {"labels": {"severity": "warning"}},
        {"labels": {"alertname": ""}},
        {"labels": {"alertname": "X", "bad-name": "v"}},
        {"labels": {"alertname": "X", "severity": "page"}},
        {"labels": {"alertname": "X"}, "status": "firing"},
        {"annotations": {}},
    ],
)
def test_postable_alert_refuses_malformed_bodies(body: dict[str, object]) -> None:
    with pytest.raises(PydanticValidationError):
        PostableAlert.model_validate(body)


def test_group_labels_and_key() -> None:
    labels = {"alertname": "X", "platform": "p", "severity": "info"}
    assert group_labels(labels, ("alertname", "missing")) == {"alertname": "X"}
    assert group_labels(labels, ("...",)) == labels
    assert group_key({"alertname": "X", "platform": "p"}) == '{}:{alertname="X", platform="p"}'


def test_first_flush_waits_group_wait_unless_alert_is_old() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    assert first_flush_at(now, now, 30) == now + timedelta(seconds=30)
    assert first_flush_at(now, now - timedelta(seconds=10), 30) == now + timedelta(seconds=20)
    assert first_flush_at(now, now - timedelta(hours=1), 30) == now
