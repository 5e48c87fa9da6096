"""Size limits on what a request may store or ask for, from ``[limits]`` in the settings.

Each check raises :class:`~selfheal_ml.errors.ValidationError` naming the offending field
(``body[3].annotations.description``), answered 422 like any other bad field.

>>> from selfheal_ml.config import Limits
>>> check_series_name("x" * 600, Limits(), "body.series")
Traceback (most recent call last):
...
selfheal_ml.errors.ValidationError: body.series: 600 characters, at most 500
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfheal_ml.alerting.label_regex import check_pattern
from selfheal_ml.alerting.model import PostableAlert
from selfheal_ml.config import Limits
from selfheal_ml.errors import ValidationError


def _check_length(text: str, limit: int, field: str) -> None:
    if len(text) > limit:
        raise ValidationError(field, f"{len(text)} characters, at most {limit}")


def check_labels(labels: Mapping[str, str], limits: Limits, field: str) -> None:
    """At most ``max_labels`` labels, names and values within their lengths."""
    if len(labels) > limits.max_labels:
        raise ValidationError(field, f"{len(labels)} labels, at most {limits.max_labels}")
    for name, value in labels.items():
        _check_length(name, limits.max_label_name_length, f"{field}.{name[:64]}")
        _check_length(value, limits.max_label_value_length, f"{field}.{name[:64]}")


def check_alerts(alerts: Sequence[PostableAlert], limits: Limits) -> None:
    """Labels, annotations and generator URLs of an ingest body within the limits."""
    for index, alert in enumerate(alerts):
        check_labels(alert.labels, limits, f"body[{index}].labels")
        annotations = f"body[{index}].annotations"
        if len(alert.annotations) > limits.max_labels:
            count = len(alert.annotations)
            raise ValidationError(annotations, f"{count} annotations, at most {limits.max_labels}")
        for name, value in alert.annotations.items():
            _check_length(name, limits.max_label_name_length, f"{annotations}.{name[:64]}")
            _check_length(value, limits.max_annotation_length, f"{annotations}.{name[:64]}")
        url_field = f"body[{index}].generatorURL"
        _check_length(alert.generator_url, limits.max_annotation_length, url_field)


def check_series_name(series: str, limits: Limits, field: str) -> None:
    """A series name no longer than ``max_series_name_length``."""
    _check_length(series, limits.max_series_name_length, field)


def check_point_count(count: int, limits: Limits, field: str) -> None:
    """At most ``max_points_per_request`` points in one request."""
    if count > limits.max_points_per_request:
        raise ValidationError(field, f"{count} points, at most {limits.max_points_per_request}")


def check_matcher_patterns(patterns: Sequence[tuple[int, str]], limits: Limits) -> None:
    """The regex matchers (index in ``body.matchers``, pattern) compile with RE2 and fit."""
    for index, pattern in patterns:
        try:
            check_pattern(pattern, limits.max_pattern_length)
        except ValueError as exc:
            raise ValidationError(f"body.matchers[{index}].value", str(exc)) from exc
