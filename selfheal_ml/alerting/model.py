"""The alert vocabulary: alerts, their fingerprints, the ingest shape and counters.

Semantics follow Prometheus Alertmanager. An alert is identified by its label set (the
``fingerprint`` is Alertmanager's FNV-1a hash of the sorted labels, so the same labels give the
same hex id here and in Alertmanager); annotations carry context and may change between
repeats. ``severity`` is both a field and the ``severity`` label.

>>> fingerprint({"alertname": "HighLatency", "severity": "warning"}) == fingerprint(
...     {"severity": "warning", "alertname": "HighLatency"})
True
>>> format_rfc3339(None)
'0001-01-01T00:00:00Z'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from selfheal_ml.events import Severity

AlertStatus = Literal["firing", "resolved"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
ZERO_TIME = "0001-01-01T00:00:00Z"

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = b"\xff"


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's label-set fingerprint: FNV-1a 64 over sorted ``name 0xff value 0xff``.

    >>> fingerprint({})
    'cbf29ce484222325'
    >>> int(fingerprint({"name": "garland, briggs", "fear": "love is not enough"}), 16)
    5799056148416392346
    """
    digest = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode(), _SEPARATOR, labels[name].encode(), _SEPARATOR):
            for byte in part:
                digest = ((digest ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def format_rfc3339(moment: datetime | None) -> str:
    """RFC3339 in UTC like Go's ``time.RFC3339Nano``; ``None`` gives Go's zero time.

    >>> format_rfc3339(datetime(2026, 1, 5, 0, 0, 30, 250000, tzinfo=UTC))
    '2026-01-05T00:00:30.25Z'
    >>> format_rfc3339(datetime(2026, 1, 5, tzinfo=UTC))
    '2026-01-05T00:00:00Z'
    """
    if moment is None:
        return ZERO_TIME
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def label_set_text(labels: dict[str, str]) -> str:
    """Prometheus ``LabelSet.String()``: sorted, quoted, comma-space separated.

    >>> label_set_text({"b": "2", "a": "x"})
    '{a="x", b="2"}'
    """
    inner = ", ".join(f"{name}={_go_quote(labels[name])}" for name in sorted(labels))
    return "{" + inner + "}"


def _go_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    """Validate an alert label set; returns it unchanged or raises ``ValueError``.

    >>> check_labels({"alertname": "X"})
    {'alertname': 'X'}
    """
    if not labels.get("alertname"):
        raise ValueError(f"expected a non-empty 'alertname' label, got {labels!r}")
    bad = [name for name in labels if not _LABEL_NAME.match(name)]
    if bad:
        raise ValueError(f"expected label names matching {_LABEL_NAME.pattern}, got {bad!r}")
    severity = labels.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"expected severity label in {SEVERITIES}, got {severity!r}")
    return labels


class Alert(BaseModel):
    """One alert instance: firing until resolved; a re-fire after resolution is a new instance.

    ``ends_at`` is the expected end while firing (the alert auto-resolves when it passes) and
    the resolution time once resolved. ``silenced_by`` lists the silences muting it now.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    severity: Severity
    status: AlertStatus
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    updated_at: AwareDatetime
    generator_url: str = ""
    auto_resolved: bool = False
    silenced_by: tuple[str, ...] = ()

    @property
    def alertname(self) -> str:
        """The ``alertname`` label."""
        return self.labels["alertname"]

    @property
    def silenced(self) -> bool:
        """True when at least one active silence matches the labels."""
        return bool(self.silenced_by)


class AlertCounts(BaseModel):
    """Dashboard counters: firing now, created ever, resolved automatically ever."""

    model_config = ConfigDict(frozen=True)

    active: int
    total: int
    auto_resolved: int
    notifications_sent: int = 0
    notifications_failed: int = 0


class PostableAlert(BaseModel):
    """One entry of Alertmanager's ``POST /api/v2/alerts`` body."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime | None = Field(default=None, alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")

    @field_validator("labels")
    @classmethod
    def _labels_valid(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_labels(labels)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _zero_is_unset(cls, moment: datetime | None) -> datetime | None:
        # Go clients send the zero time for "unset".
        if moment is not None and moment.year <= 1:
            return None
        return moment
