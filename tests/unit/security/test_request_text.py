"""Normalisation undoes the encodings attackers hide behind; request text keeps its parts."""

from __future__ import annotations

import pytest

from selfheal_ml.security.request_text import normalise_text, parameter_values, request_text


@pytest.mark.parametrize(
    "encoded",
    [
        "1' OR 1=1--",
        "1%27%20or%201%3D1--",
        "1%2527+OR+1%253D1--",
        "1&#39; or 1=1--",
        "1&#x27;   OR\t1=1--",
    ],
)
def test_encodings_of_one_payload_normalise_to_the_same_text(encoded: str) -> None:
    assert normalise_text(encoded) == "1' or 1=1--"


def test_html_entities_are_decoded_but_query_ampersands_are_left_alone() -> None:
    assert normalise_text("&lt;img src=x&gt;") == "<img src=x>"
    assert normalise_text("id=2&nombre=Vino&B1=Pasar") == "id=2&nombre=vino&b1=pasar"


def test_request_text_joins_the_parts_and_skips_missing_ones() -> None:
    assert request_text("POST", "/login", "user=ana") == "post /login user=ana"
    assert request_text("GET", "/a?b=1", float("nan")) == "get /a?b=1"
    assert request_text(None, "/a", None) == "/a"


def test_parameter_values_take_path_query_and_body_values() -> None:
    text = request_text("POST", "/a/b.jsp?x=1&y=%27", "user=ana&flag&pwd=a=b")
    assert parameter_values(text) == ["/a/b.jsp", "1", "%27", "ana", "flag", "a=b"]
    assert parameter_values("1' or '1'='1") == ["1'", "or", "'1"]  # a bare payload: pieces
