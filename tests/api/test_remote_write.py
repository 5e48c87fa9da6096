"""``POST /api/v1/write``: stored, listed, scored; refused bodies change nothing."""

from __future__ import annotations

from datetime import timedelta

import cramjam
from fastapi.testclient import TestClient

from selfheal_ml.clock import SimClock
from selfheal_ml.collectors.remote_write import encode_write_request
from tests.api.conftest import AUTH

HEADERS = {
    **AUTH,
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def _body(sim_clock: SimClock, count: int, name: str = "queue_depth") -> bytes:
    start_ms = int(sim_clock.now().timestamp() * 1000)
    labels = {"__name__": name, "job": "remote", "platform": "leadsite.ai"}
    return encode_write_request(
        [(labels, [(start_ms + i * 15_000, float(i)) for i in range(count)])]
    )


def _stored(client: TestClient, series: str) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    now = runtime.clock.now()
    frame = runtime.metrics.window(series, now - timedelta(days=1), now + timedelta(days=1))
    return len(frame)


SERIES = 'queue_depth{job="remote",platform="leadsite.ai"}'


def test_a_write_is_stored_and_listed(client: TestClient, sim_clock: SimClock) -> None:
    response = client.post("/api/v1/write", content=_body(sim_clock, 4), headers=HEADERS)
    assert response.status_code == 204
    assert _stored(client, SERIES) == 4
    assert SERIES in client.get("/v1/series", params={"prefix": "queue_depth"}).json()


def test_written_series_reach_the_predictive_agent(client: TestClient, sim_clock: SimClock) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    predictive = runtime.agents["Predictive"].agent
    before = predictive.scored
    assert (
        client.post("/api/v1/write", content=_body(sim_clock, 3), headers=HEADERS).status_code
        == 204
    )
    client.portal.call(runtime.bus.drain)  # type: ignore[attr-defined]
    assert predictive.scored == before + 1  # the newest point of the one series in the body


def test_refused_writes_lose_nothing_acknowledged_before(
    client: TestClient, sim_clock: SimClock
) -> None:
    assert (
        client.post("/api/v1/write", content=_body(sim_clock, 5), headers=HEADERS).status_code
        == 204
    )
    malformed = client.post("/api/v1/write", content=b"\x00garbage", headers=HEADERS)
    assert malformed.status_code == 400
    assert malformed.json()["detail"]["field"] == "body"
    not_protobuf = bytes(cramjam.snappy.compress_raw(b"\xff" * 64))
    assert client.post("/api/v1/write", content=not_protobuf, headers=HEADERS).status_code == 400
    limit = client.app.state.remote_write.decoder.max_body_bytes  # type: ignore[attr-defined]
    oversized = client.post("/api/v1/write", content=b"\x00" * (limit + 1), headers=HEADERS)
    assert oversized.status_code == 413
    assert "limit" in oversized.json()["detail"]["error"]
    assert _stored(client, SERIES) == 5
    metrics = client.get("/metrics").text
    assert 'selfheal_remote_write_requests_total{outcome="malformed"} 2.0' in metrics
    assert 'selfheal_remote_write_requests_total{outcome="too_large"} 1.0' in metrics
    assert "selfheal_remote_write_samples_total 5.0" in metrics


def test_a_write_without_the_bearer_token_is_refused(
    client: TestClient, sim_clock: SimClock
) -> None:
    headers = {key: value for key, value in HEADERS.items() if key != "Authorization"}
    response = client.post("/api/v1/write", content=_body(sim_clock, 1), headers=headers)
    assert response.status_code == 401
    assert _stored(client, SERIES) == 0


def test_a_body_that_is_not_snappy_encoded_is_named(
    client: TestClient, sim_clock: SimClock
) -> None:
    headers = {**HEADERS, "Content-Encoding": "gzip"}
    response = client.post("/api/v1/write", content=_body(sim_clock, 1), headers=headers)
    assert response.status_code == 400
    assert "Content-Encoding" in response.json()["detail"]["error"]
