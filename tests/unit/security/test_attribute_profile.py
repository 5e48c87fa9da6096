"""The value models of one attribute: length, character classes, tokens, structure."""

from __future__ import annotations

import pytest

from selfheal_ml.security.attribute_profile import (
    ANOMALY_KINDS,
    AttributeProfile,
    character_class,
    value_shape,
)


def _learnt(values: list[str], min_observations: int = 5) -> AttributeProfile:
    profile = AttributeProfile(min_observations=min_observations)
    for value in values:
        profile.learn(value)
    return profile


PRICES = [str(price) for price in (100, 250, 39, 1200, 75, 640, 88, 310, 45, 999)] * 3
BUTTONS = ["Confirm"] * 40 + ["Pay"] * 40


def test_nothing_is_scored_before_the_minimum_number_of_values() -> None:
    profile = _learnt(["1", "2"], min_observations=5)
    assert profile.anomalies("<script>") == dict.fromkeys(ANOMALY_KINDS, 0.0)


def test_a_normal_price_is_not_anomalous_and_a_tampered_one_is() -> None:
    profile = _learnt(PRICES)
    assert max(profile.anomalies("640").values()) == 0.0
    tampered = profile.anomalies("640A")
    assert tampered["characters"] > 0.9  # no capital letter was ever seen in a price
    assert tampered["structure"] > 0.9  # the shape "9a" was never seen


def test_an_enumerated_field_flags_an_unseen_value_and_free_text_does_not() -> None:
    buttons = _learnt(BUTTONS)
    assert buttons.anomalies("Confirm")["token"] == 0.0
    assert buttons.anomalies("Cancel")["token"] == pytest.approx(1 - 1 / 81)  # P(new) = 1/81
    names = _learnt([f"user{number}" for number in range(50)])  # every value new: free text
    assert names.anomalies("user999")["token"] == 0.0


def test_a_value_far_longer_than_usual_is_a_length_anomaly() -> None:
    profile = _learnt(BUTTONS)
    assert profile.anomalies("Pay")["length"] == 0.0
    assert profile.anomalies("Confirm" * 40)["length"] > 0.99


def test_character_classes_and_shapes() -> None:
    assert [character_class(c) for c in "aZ7ñ'"] == ["a", "A", "9", "é", "'"]
    assert value_shape("C/ Mayor 12, 3B") == "a/ a 9, 9a"


def test_distinct_values_beyond_the_cap_make_the_field_free_text() -> None:
    profile = AttributeProfile(min_observations=1, max_distinct=3)
    for value in ["a", "b", "c", "a", "d"]:
        profile.learn(value)
    assert profile.anomalies("zzz")["token"] == 0.0  # overflowed: no longer enumerated
    assert profile.anomalies("zzz")["structure"] == 0.0  # the shape "a" is still known
