"""Silences: time-bounded label matchers that mute notifications, as in Alertmanager.

A :class:`Matcher` compares one label: ``=`` (equal), ``!=``, ``=~`` (regex) or ``!~``.
Regexes have RE2 semantics (:mod:`~selfheal_ml.alerting.label_regex`: linear time, no
back-references), are anchored at both ends and a missing label reads as the empty string,
exactly like Alertmanager. A silence mutes an alert when every matcher matches and
``starts_at <= now < ends_at``. A silenced alert is still stored and counted; it is only left
out of notifications.

>>> matcher = Matcher(name="service", value="api|web", is_regex=True)
>>> matcher.matches({"service": "api"}), matcher.matches({"service": "api2"})
(True, False)
>>> str(matcher)
'service=~"api|web"'
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from selfheal_ml.alerting.label_regex import (
    DEFAULT_MAX_PATTERN_LENGTH,
    check_pattern,
    full_match,
)

SilenceState = Literal["pending", "active", "expired"]


class Matcher(BaseModel):
    """One label matcher: ``name`` (=, !=, =~, !~) ``value``.

    A regex is checked when the matcher joins a silence (:func:`check_silence`), so an API can
    build matchers from a request and get one ``matchers`` error for the whole silence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @field_validator("name")
    @classmethod
    def _name_not_empty(cls, name: str) -> str:
        if not name:
            raise ValueError("expected a non-empty label name")
        return name

    def matches(self, labels: dict[str, str]) -> bool:
        """Does this matcher accept ``labels`` (a missing label reads as "")?"""
        actual = labels.get(self.name, "")
        hit = full_match(self.value, actual) if self.is_regex else actual == self.value
        return hit == self.is_equal

    def __str__(self) -> str:
        operator = ("=" if self.is_equal else "!") + ("~" if self.is_regex else "")
        if operator == "!":
            operator = "!="
        return f'{self.name}{operator}"{self.value}"'


class Silence(BaseModel):
    """A silence as stored: matchers plus a validity window and who made it and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str  # Alertmanager's name for it (GettableSilence.id)
    matchers: tuple[Matcher, ...]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    created_by: str
    comment: str
    updated_at: AwareDatetime

    def state(self, now: datetime) -> SilenceState:
        """``pending`` before it starts, ``active`` inside its window, then ``expired``."""
        if now < self.starts_at:
            return "pending"
        if now < self.ends_at:
            return "active"
        return "expired"

    def mutes(self, labels: dict[str, str], now: datetime) -> bool:
        """True when the silence is active at ``now`` and every matcher accepts ``labels``."""
        if self.state(now) != "active":
            return False
        return all(matcher.matches(labels) for matcher in self.matchers)


def check_silence(
    matchers: list[Matcher],
    starts_at: datetime,
    ends_at: datetime,
    max_pattern_length: int = DEFAULT_MAX_PATTERN_LENGTH,
) -> None:
    """Refuse silences Alertmanager refuses; raises ``ValueError`` naming the problem.

    At least one matcher, regexes RE2 compiles of at most ``max_pattern_length`` characters,
    an end after the start, and at least one matcher that does not match the empty label (so
    a silence cannot mute everything by accident).

    >>> check_silence([Matcher(name="a", value=".*", is_regex=True)],
    ...               datetime(2026, 1, 1).astimezone(), datetime(2026, 1, 2).astimezone())
    Traceback (most recent call last):
    ...
    ValueError: matchers: at least one matcher must not match the empty string
    """
    if not matchers:
        raise ValueError("matchers: expected at least one matcher, got none")
    for index, matcher in enumerate(matchers):
        if matcher.is_regex:
            try:
                check_pattern(matcher.value, max_pattern_length)
            except ValueError as exc:
                raise ValueError(f"matchers[{index}].value: {exc}") from exc
    if ends_at <= starts_at:
        raise ValueError(f"ends_at: expected after starts_at {starts_at}, got {ends_at}")
    if all(matcher.matches({}) for matcher in matchers):
        raise ValueError("matchers: at least one matcher must not match the empty string")


def silencing(silences: list[Silence], labels: dict[str, str], now: datetime) -> tuple[str, ...]:
    """The ids of the silences that mute ``labels`` at ``now``."""
    return tuple(silence.id for silence in silences if silence.mutes(labels, now))
