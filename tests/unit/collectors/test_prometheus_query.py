"""``prometheus_query`` targets: PromQL answers become points; failures are reported."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest

from selfheal_ml.collectors.factory import TargetSpec, build_collectors
from selfheal_ml.collectors.prometheus_query import PrometheusQuery
from selfheal_ml.errors import ValidationError

NOW = datetime(2026, 1, 5, tzinfo=UTC)
ANSWERS = {
    "up": {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"__name__": "up", "job": "api", "instance": "a:1"}, "value": [0, "1"]},
                {"metric": {"__name__": "up", "job": "db", "instance": "b:1"}, "value": [0, "0"]},
            ],
        },
    },
    "sum(rate(x[1m]))": {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "2.5"]}]},
    },
    "scalar(1)": {"status": "success", "data": {"resultType": "scalar", "result": [0, "1"]}},
    "bad(": {"status": "error", "errorType": "bad_data", "error": "parse error"},
}


def _transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        query = request.url.params["query"]
        status = 400 if query == "bad(" else 200
        return httpx.Response(status, content=json.dumps(ANSWERS[query]))

    return httpx.MockTransport(answer)


def test_vector_and_scalar_results_become_points() -> None:
    seen: list[httpx.Request] = []
    queries = ["up", "sum(rate(x[1m]))", "scalar(1)"]
    collector = PrometheusQuery("prom", "http://prom:9090/", queries, transport=_transport(seen))
    points = asyncio.run(collector.collect(NOW))
    values = {point.series: point.value for point in points if point.series != "query_duration_ms"}
    assert values['up{instance="a:1",job="api",target="prom"}'] == 1.0
    assert values['up{instance="b:1",job="db",target="prom"}'] == 0.0
    assert values['query_1{target="prom"}'] == 2.5
    assert values['query_2{target="prom"}'] == 1.0
    assert values['query_up{target="prom"}'] == 1.0
    assert collector.last_error is None
    assert {request.url.path for request in seen} == {"/api/v1/query"}
    assert {request.url.params["time"] for request in seen} == {f"{NOW.timestamp():.3f}"}


def test_a_failing_expression_is_reported_and_the_others_still_arrive() -> None:
    collector = PrometheusQuery(
        "prom", "http://prom:9090", ["up", "bad("], transport=_transport([])
    )
    points = asyncio.run(collector.collect(NOW))
    series = {point.series: point.value for point in points}
    assert series['query_up{target="prom"}'] == 0.0
    assert 'up{instance="a:1",job="api",target="prom"}' in series
    assert collector.last_error is not None and "bad_data: parse error" in collector.last_error


def test_an_unreachable_server_gives_query_up_zero() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    collector = PrometheusQuery(
        "prom", "http://prom:9090", ["up"], transport=httpx.MockTransport(refuse)
    )
    points = asyncio.run(collector.collect(NOW))
    assert [p.value for p in points if p.series.startswith("query_up")] == [0.0]
    assert collector.last_error is not None and "ConnectError" in collector.last_error


def test_the_factory_builds_it_and_refuses_a_target_without_queries() -> None:
    spec = TargetSpec(kind="prometheus_query", name="prom", url="http://prom:9090", queries=("up",))
    [collector] = build_collectors([spec])
    assert collector.name == "prometheus_query:prom"
    with pytest.raises(ValidationError, match="queries"):
        TargetSpec(kind="prometheus_query", name="prom", url="http://prom:9090")
