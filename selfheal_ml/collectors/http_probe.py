"""HTTP probe: is an endpoint answering, how fast, with which status.

The probe is the black-box view of a platform (what a user would see), in the spirit of the
Prometheus blackbox exporter. A refused connection, a DNS failure or a timeout is an answer
too: ``probe_up 0`` and ``last_error`` set, never an exception out of ``collect``.

Each probe keeps one pooled client (:class:`~selfheal_ml.collectors.http_client.PooledClient`)
for its whole life: a fresh client per probe cost an SSL context per round, tens of ms of CPU on
the event loop. The measured latency therefore includes connecting only when the kept-alive
connection was closed (first probe, target restart); :meth:`HttpProbe.aclose` closes it at
shutdown. Under virtual time a transport that stands
in for the network (the simulator's in-process transport) reports how long the target took in
the response extension :data:`selfheal_ml.clock.SIMULATED_ELAPSED_S`; the probe reports that
instead of the wall time, which there measures only this process (noise, not reproducible).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx

from selfheal_ml.clock import SIMULATED_ELAPSED_S
from selfheal_ml.collectors.base import describe_failure, metric_point, target_labels
from selfheal_ml.collectors.http_client import PooledClient
from selfheal_ml.events import MetricPoint

#: Sent with every probe and scrape, so target logs can tell monitoring from users.
USER_AGENT = "selfheal-ml-monitor"
#: The headers of every probe request.
PROBE_HEADERS = {"User-Agent": USER_AGENT}

#: Exceptions that mean "the target did not answer properly", reported as ``probe_up 0``.
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (
    httpx.HTTPError,
    httpx.InvalidURL,
    TimeoutError,
    OSError,
)


def simulated_elapsed_s(response: httpx.Response) -> float | None:
    """The seconds a simulated transport says the response took, or ``None`` (a real one).

    >>> simulated_elapsed_s(httpx.Response(200, extensions={SIMULATED_ELAPSED_S: 0.25}))
    0.25
    >>> simulated_elapsed_s(httpx.Response(200)) is None
    True
    """
    value = response.extensions.get(SIMULATED_ELAPSED_S)
    return float(value) if isinstance(value, int | float) else None


class HttpProbe:
    """GET ``url`` within ``timeout_s``; emits ``probe_up``, ``probe_latency_ms``, status.

    ``probe_up`` is 1 when a response arrived with a status below 400. ``probe_latency_ms``
    and ``probe_status_code`` are emitted whenever a response arrived. ``transport`` lets
    tests swap the network for an ``httpx.MockTransport``.

    >>> import asyncio, httpx
    >>> from datetime import datetime, UTC
    >>> transport = httpx.MockTransport(lambda request: httpx.Response(503))
    >>> probe = HttpProbe("shop", "http://shop.test/health", transport=transport)
    >>> points = asyncio.run(probe.collect(datetime(2026, 1, 1, tzinfo=UTC)))
    >>> {point.series: point.value for point in points if "latency" not in point.series}
    {'probe_up{target="shop"}': 0.0, 'probe_status_code{target="shop"}': 503.0}
    >>> probe.last_error
    'HTTP 503'
    """

    def __init__(
        self,
        target: str,
        url: str,
        timeout_s: float = 5.0,
        platform: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        self.url = url
        self.timeout_s = timeout_s
        self.platform = platform
        self.transport = transport
        self.name = f"http:{target}"
        self.last_error: str | None = None
        self._http = PooledClient(transport)

    async def aclose(self) -> None:
        """Close the kept-alive connection (at shutdown)."""
        await self._http.aclose()

    async def collect(self, now: datetime) -> list[MetricPoint]:
        """Probe once; never raises for an unreachable or failing target."""
        labels = target_labels(self.target, self.platform)
        try:
            async with asyncio.timeout(self.timeout_s):
                self._http.client()  # built outside the timed part on first use
                started = time.perf_counter()
                response = await self._http.get(self.url, PROBE_HEADERS, self.timeout_s)
        except UNREACHABLE_ERRORS as error:
            self.last_error = describe_failure(error, self.timeout_s)
            return [metric_point("probe_up", labels, 0.0, now)]
        simulated_s = simulated_elapsed_s(response)
        elapsed_s = time.perf_counter() - started if simulated_s is None else simulated_s
        latency_ms = elapsed_s * 1000.0
        healthy = response.status_code < 400
        self.last_error = None if healthy else f"HTTP {response.status_code}"
        return [
            metric_point("probe_up", labels, 1.0 if healthy else 0.0, now),
            metric_point("probe_status_code", labels, float(response.status_code), now),
            metric_point("probe_latency_ms", labels, latency_ms, now),
        ]
