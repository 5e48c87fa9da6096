"""The request profile of a small hand-made shop: normal requests pass, tampered ones do not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from selfheal_ml.security.request_parts import RequestParts, parse_request
from selfheal_ml.security.request_profile import KINDS, RequestProfile, path_key

PRODUCTS = ["Vino+Rioja", "Queso+Manchego", "Jamon+Iberico"]


def _shop_traffic(requests: int = 120) -> list[RequestParts]:
    traffic: list[RequestParts] = []
    for number in range(requests):
        product = PRODUCTS[number % 3]
        traffic.append(parse_request("GET", "/shop/index.jsp", None))
        traffic.append(
            parse_request(
                "POST",
                "/shop/add.jsp",
                f"id={number % 3}&name={product}&price={20 + number % 7 * 13}&B1=Add",
            )
        )
        traffic.append(
            parse_request("GET", f"/shop/login.jsp?user=user{number}&pwd=pw{number * 7}x", None)
        )
    return traffic


@pytest.fixture(scope="module")
def profile() -> RequestProfile:
    return RequestProfile(min_observations=10).learn_many(_shop_traffic())


TAMPERED = [
    ("GET", "/shop/add.jsp.BAK", None, "path"),
    ("GET", "/admin/console.cfm", None, "path"),
    ("PUT", "/shop/add.jsp", "id=1&name=Vino+Rioja&price=20&B1=Add", "method"),
    ("POST", "/shop/add.jsp", "id=1&nameA=Vino+Rioja&price=20&B1=Add", "parameter"),
    ("POST", "/shop/add.jsp", "id=1&price=20&B1=Add", "parameter_set"),
    ("POST", "/shop/add.jsp", "name=Vino+Rioja&id=1&price=20&B1=Add", "order"),
    ("POST", "/shop/add.jsp", "id=1&name=Vino+Rioja&price=20&B1=Remove", "token"),
    ("POST", "/shop/add.jsp", "id=1&name=Vino+Rioja&price=20%27--&B1=Add", "characters"),
    ("POST", "/shop/add.jsp", "id=1&name=Vino+Rioja&price=20.5&B1=Add", "structure"),
    ("GET", "/shop/login.jsp?user=" + "a" * 400 + "&pwd=pw1x", None, "length"),
]


def test_every_normal_request_scores_below_every_tampered_one(profile: RequestProfile) -> None:
    normal = max(profile.score(parts) for parts in _shop_traffic(20))
    tampered = min(profile.score(parse_request(*case[:3])) for case in TAMPERED)
    assert normal < tampered
    assert profile.score(parse_request("GET", "/shop/index.jsp", None)) == 0.0


@pytest.mark.parametrize(("method", "uri", "body", "kind"), TAMPERED)
def test_each_kind_of_tampering_is_flagged_by_its_model(
    profile: RequestProfile, method: str, uri: str, body: str | None, kind: str
) -> None:
    anomalies = profile.anomalies(parse_request(method, uri, body))
    assert anomalies[kind] > 0.9, anomalies
    nines = -math.log10(math.prod(1 - anomaly for anomaly in anomalies.values()))
    assert profile.score(parse_request(method, uri, body)) == pytest.approx(nines)
    assert nines > 2.0  # less likely than a 1-in-100 event


def test_a_new_page_of_a_known_folder_counts_half(profile: RequestProfile) -> None:
    new_page = profile.anomalies(parse_request("GET", "/shop/basket.jsp", None))["path"]
    new_extension = profile.anomalies(parse_request("GET", "/shop/basket.bak", None))["path"]
    assert new_page == pytest.approx(new_extension / 2)
    assert new_extension > 0.99


def test_a_free_text_field_accepts_new_values(profile: RequestProfile) -> None:
    parts = parse_request("GET", "/shop/login.jsp?user=user777&pwd=pw538x", None)
    assert profile.score(parts) == 0.0


def test_nothing_is_flagged_during_the_warm_up() -> None:
    profile = RequestProfile(min_observations=10).learn_many(_shop_traffic(2))
    parts = parse_request("GET", "/etc/passwd", None)
    assert profile.anomalies(parts) == dict.fromkeys(KINDS, 0.0)


def test_texts_are_scored_in_bulk_like_one_by_one(profile: RequestProfile) -> None:
    texts = ["get /shop/index.jsp", "post /shop/add.jsp id=9&name=x&price=1&B1=Add"]
    scores = profile.score_texts(texts)
    assert scores.shape == (2,) and np.all(np.isfinite(scores))
    assert scores[0] == 0.0 and scores[1] > 2.0


def test_numeric_path_segments_share_one_profile() -> None:
    assert path_key("/users/12/orders") == path_key("/users/13/orders")


def test_the_number_of_paths_is_bounded() -> None:
    profile = RequestProfile(min_observations=1, max_paths=5)
    profile.learn_many(parse_request("GET", f"/page{letter}.html", None) for letter in "abcdefgh")
    assert len(profile._profiles) == 5
