"""Matchers and silences behave like Alertmanager's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError as PydanticValidationError

from selfheal_ml.alerting.silences import Matcher, Silence, check_silence

NOW = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        (Matcher(name="env", value="prod"), {"env": "prod"}, True),
        (Matcher(name="env", value="prod"), {"env": "production"}, False),
        (Matcher(name="env", value="prod", is_equal=False), {"env": "dev"}, True),
        (Matcher(name="env", value="pro.*", is_regex=True), {"env": "production"}, True),
        (Matcher(name="env", value="pro", is_regex=True), {"env": "production"}, False),
        (Matcher(name="env", value="prod|dev", is_regex=True, is_equal=False), {"env": "qa"}, True),
        (Matcher(name="env", value="", is_equal=True), {}, True),  # missing label reads as ""
        (Matcher(name="env", value="a", is_regex=True), {"env": "a\n"}, False),
    ],
)
def test_matcher(matcher: Matcher, labels: dict[str, str], expected: bool) -> None:
    assert matcher.matches(labels) is expected


def test_matcher_text_uses_alertmanager_operators() -> None:
    assert [
        str(Matcher(name="a", value="1", is_regex=regex, is_equal=equal))
        for equal, regex in [(True, False), (False, False), (True, True), (False, True)]
    ] == ['a="1"', 'a!="1"', 'a=~"1"', 'a!~"1"']


def test_bad_regex_is_refused_when_it_joins_a_silence() -> None:
    with pytest.raises(ValueError, match=r"matchers\[0\]\.value: invalid regex"):
        check_silence([Matcher(name="a", value="([", is_regex=True)], NOW, NOW + timedelta(hours=1))


def test_empty_label_name_is_refused() -> None:
    with pytest.raises(PydanticValidationError):
        Matcher(name="", value="x")


def test_silence_state_and_window() -> None:
    silence = Silence(
        id="s1",
        matchers=(Matcher(name="alertname", value="Noisy"),),
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=1),
        created_by="oncall",
        comment="",
        updated_at=NOW,
    )
    assert silence.state(NOW - timedelta(seconds=1)) == "pending"
    assert silence.state(NOW) == "active"
    assert silence.state(NOW + timedelta(hours=1)) == "expired"
    assert silence.mutes({"alertname": "Noisy", "x": "y"}, NOW)
    assert not silence.mutes({"alertname": "Other"}, NOW)
    assert not silence.mutes({"alertname": "Noisy"}, NOW + timedelta(hours=2))


@pytest.mark.parametrize(
    ("matchers", "end", "problem"),
    [
        ([], NOW + timedelta(hours=1), "at least one matcher"),
        ([Matcher(name="a", value="x")], NOW, "ends_at"),
        ([Matcher(name="a", value="")], NOW + timedelta(hours=1), "empty string"),
    ],
)
def test_check_silence_refuses(matchers: list[Matcher], end: datetime, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_silence(matchers, NOW, end)
