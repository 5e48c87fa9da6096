"""A request splits into method, path and decoded parameters, query before body."""

from __future__ import annotations

from selfheal_ml.security.request_parts import parse_request, parse_request_text
from selfheal_ml.security.request_text import request_text


def test_query_and_body_parameters_are_decoded_once_in_the_order_sent() -> None:
    parts = parse_request("post", "/shop/pay.jsp?mode=buy", "price=10&note=caf%E9+au+lait")
    assert parts.method == "POST"
    assert parts.path == "/shop/pay.jsp"
    assert parts.parameters == (("mode", "buy"), ("price", "10"), ("note", "café au lait"))


def test_double_encoding_keeps_its_percent_and_a_bare_field_has_an_empty_value() -> None:
    parts = parse_request("GET", "/a?x=%253C&flag", None)
    assert parts.parameters == (("x", "%3C"), ("flag", ""))


def test_a_full_url_keeps_its_path() -> None:
    assert parse_request("GET", "http://localhost:8080/a/b.jsp?id=1", None).path == "/a/b.jsp"


def test_the_text_form_round_trips_through_request_text() -> None:
    text = request_text("POST", "/login?next=%2Fhome", "user=ana&pwd=x%27")
    parts = parse_request_text(text)
    assert (parts.method, parts.path) == ("POST", "/login")
    assert parts.parameters == (("next", "/home"), ("user", "ana"), ("pwd", "x'"))
