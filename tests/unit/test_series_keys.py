"""Series keys are canonical and escaped: distinct label sets never share a key, and a key
parses back to exactly its name and labels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.events import series_key
from selfheal_ml.storage.metrics import parse_series_key

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
LABELS = st.dictionaries(NAMES, st.text(max_size=12), max_size=4)


@given(NAMES, LABELS)
def test_a_key_parses_back_to_its_name_and_labels(name: str, labels: dict[str, str]) -> None:
    assert parse_series_key(series_key(name, labels)) == (name, labels)


@given(NAMES, LABELS, LABELS)
def test_distinct_label_sets_have_distinct_keys(
    name: str, first: dict[str, str], second: dict[str, str]
) -> None:
    if first != second:
        assert series_key(name, first) != series_key(name, second)


def test_the_old_collision_is_gone() -> None:
    forged = series_key("http_requests", {"path": '/a",status="500'})
    honest = series_key("http_requests", {"path": "/a", "status": "500"})
    assert forged != honest
    assert parse_series_key(forged)[1] == {"path": '/a",status="500'}
