"""PromQL source: evaluate expressions on a Prometheus-compatible server each round.

A user who already runs Prometheus points a ``prometheus_query`` target at it (the base URL,
e.g. ``http://prometheus:9090``) with a list of PromQL expressions; each round every
expression is evaluated at the round's instant through the HTTP API's instant query
(``GET <base>/api/v1/query?query=...&time=...``) and the results become points:

- a ``vector`` result gives one point per element, named by its ``__name__`` label, or
  ``query_<n>`` (``n`` = the expression's position in the list, from 0) when the expression
  drops the name (``rate(...)``, ``sum by (job) (...)``); its labels are kept, the target's
  own labels are added where the result did not set them;
- a ``scalar`` result gives one point named ``query_<n>``;
- non-finite values (``NaN``, ``+Inf``) are dropped.

Each round also emits ``query_up`` (1 if every expression answered) and
``query_duration_ms`` for the target; an expression that fails (HTTP error, ``"status":
"error"``, timeout) is reported in ``last_error`` and makes ``query_up`` 0, while the other
expressions' points still arrive. Prometheus-compatible servers (Thanos, VictoriaMetrics,
Mimir) answer the same API.

>>> collector = PrometheusQuery("prom", "http://127.0.0.1:9090", ["up"])
>>> collector.name, collector.query_url
('prometheus_query:prom', 'http://127.0.0.1:9090/api/v1/query')
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from selfheal_ml.collectors.base import describe_failure, metric_point, target_labels
from selfheal_ml.collectors.http_probe import UNREACHABLE_ERRORS, USER_AGENT
from selfheal_ml.events import MetricPoint

#: A failed expression: unreachable server, HTTP error, error answer or unreadable JSON.
QUERY_ERRORS: tuple[type[Exception], ...] = (*UNREACHABLE_ERRORS, ValueError, KeyError, TypeError)


class QueryFailedError(ValueError):
    """Prometheus answered ``"status": "error"`` (a bad expression, a timeout)."""


def result_points(
    answer: dict[str, Any], index: int, base_labels: dict[str, str], now: datetime
) -> list[MetricPoint]:
    """The points of one instant-query answer (see the module doc).

    >>> from datetime import UTC
    >>> answer = {"status": "success", "data": {"resultType": "vector", "result": [
    ...     {"metric": {"__name__": "up", "job": "api"}, "value": [1.7e9, "1"]},
    ...     {"metric": {"job": "db"}, "value": [1.7e9, "NaN"]}]}}
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> [(p.series, p.value) for p in result_points(answer, 0, {"target": "prom"}, now)]
    [('up{job="api",target="prom"}', 1.0)]
    """
    if answer.get("status") != "success":
        raise QueryFailedError(f"{answer.get('errorType', 'error')}: {answer.get('error', '')}")
    data = answer["data"]
    fallback = f"query_{index}"
    if data["resultType"] == "scalar":
        value = float(data["result"][1])
        return [metric_point(fallback, base_labels, value, now)] if math.isfinite(value) else []
    if data["resultType"] != "vector":
        raise QueryFailedError(f"expected a vector or scalar result, got {data['resultType']}")
    points: list[MetricPoint] = []
    for element in data["result"]:
        value = float(element["value"][1])
        if not math.isfinite(value):
            continue
        labels = {**base_labels, **element["metric"]}
        name = labels.pop("__name__", fallback)
        points.append(metric_point(name, labels, value, now))
    return points


class PrometheusQuery:
    """Evaluates ``queries`` against ``base_url`` each round, within ``timeout_s``."""

    def __init__(
        self,
        target: str,
        base_url: str,
        queries: Sequence[str],
        timeout_s: float = 5.0,
        platform: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        self.base_url = base_url.rstrip("/")
        self.query_url = f"{self.base_url}/api/v1/query"
        self.queries = tuple(queries)
        self.timeout_s = timeout_s
        self.platform = platform
        self.transport = transport
        self.name = f"prometheus_query:{target}"
        self.last_error: str | None = None

    async def collect(self, now: datetime) -> list[MetricPoint]:
        """Every expression at ``now``; failures are reported, not raised (module doc)."""
        labels = target_labels(self.target, self.platform)
        started = time.perf_counter()
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout_s) as client:
            outcomes = await asyncio.gather(
                *(
                    self._evaluate(client, index, query, now)
                    for index, query in enumerate(self.queries)
                )
            )
        points: list[MetricPoint] = []
        errors: list[str] = []
        for outcome in outcomes:
            if isinstance(outcome, str):
                errors.append(outcome)
            else:
                points.extend(outcome)
        self.last_error = "; ".join(errors) if errors else None
        duration_ms = (time.perf_counter() - started) * 1000.0
        points.append(metric_point("query_up", labels, 0.0 if errors else 1.0, now))
        points.append(metric_point("query_duration_ms", labels, duration_ms, now))
        return points

    async def _evaluate(
        self, client: httpx.AsyncClient, index: int, query: str, now: datetime
    ) -> list[MetricPoint] | str:
        """The points of one expression, or the text of its failure."""
        parameters = {"query": query, "time": f"{now.timestamp():.3f}"}
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await client.get(
                    self.query_url, params=parameters, headers={"User-Agent": USER_AGENT}
                )
            answer = response.json()
            if response.status_code >= 400 and not isinstance(answer, dict):
                response.raise_for_status()
            base = target_labels(self.target, self.platform)
            return result_points(answer, index, base, now)
        except QUERY_ERRORS as error:
            return f"query {index} ({query}): {describe_failure(error, self.timeout_s)}"
