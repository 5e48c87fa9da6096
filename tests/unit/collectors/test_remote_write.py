"""The remote write decoder: keys, limits, refusals, stale markers, the key cache."""

from __future__ import annotations

from datetime import UTC, datetime

import cramjam
import pytest

from selfheal_ml.collectors.remote_write import (
    MalformedWriteError,
    PayloadTooLargeError,
    RemoteWriteDecoder,
    encode_write_request,
)
from selfheal_ml.collectors.remote_write_schema import write_request_class
from selfheal_ml.events import series_key

T0_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z


def test_series_keys_match_the_scraped_form_and_timestamps_are_utc() -> None:
    labels = {"__name__": "http_requests_per_second", "platform": "a", "job": "sim"}
    decoded = RemoteWriteDecoder().decode(encode_write_request([(labels, [(T0_MS, 2.5)])]))
    assert decoded.table.column("series").to_pylist() == [
        series_key("http_requests_per_second", {"job": "sim", "platform": "a"})
    ]
    assert decoded.table.column("ts").to_pylist() == [datetime(2026, 1, 5, tzinfo=UTC)]
    assert decoded.labels == {
        'http_requests_per_second{job="sim",platform="a"}': {"job": "sim", "platform": "a"}
    }


def test_several_samples_per_series_and_stale_markers_are_dropped() -> None:
    body = encode_write_request(
        [({"__name__": "up"}, [(T0_MS, 1.0), (T0_MS + 1000, float("nan")), (T0_MS + 2000, 0.0)])]
    )
    decoded = RemoteWriteDecoder().decode(body)
    assert decoded.table.column("value").to_pylist() == [1.0, 0.0]
    assert (decoded.samples, decoded.dropped) == (2, 1)


def test_label_order_on_the_wire_does_not_change_the_key() -> None:
    request = write_request_class()()
    series = request.timeseries.add()
    for name, value in (("job", "x"), ("__name__", "up"), ("a", "1")):
        series.labels.add(name=name, value=value)
    series.samples.add(value=1.0, timestamp=T0_MS)
    body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
    decoded = RemoteWriteDecoder().decode(body)
    assert decoded.table.column("series").to_pylist() == ['up{a="1",job="x"}']


def test_a_known_label_set_is_served_from_the_cache_and_the_cache_is_bounded() -> None:
    decoder = RemoteWriteDecoder(key_cache_size=2)
    bodies = [encode_write_request([({"__name__": f"m{i}"}, [(T0_MS, 1.0)])]) for i in range(3)]
    for body in bodies:
        decoder.decode(body)
    assert len(decoder._keys) <= 2
    again = decoder.decode(bodies[2])
    assert again.table.column("series").to_pylist() == ["m2"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not snappy at all", "snappy"),
        (bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff\xff")), "WriteRequest"),
        (encode_write_request([({"job": "x"}, [(T0_MS, 1.0)])]), "__name__"),
    ],
)
def test_malformed_bodies_are_refused_whole(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedWriteError, match=problem) as caught:
        RemoteWriteDecoder().decode(body)
    assert caught.value.status == 400


def test_oversized_bodies_are_refused_before_decompression() -> None:
    body = encode_write_request([({"__name__": "up", "pad": "x" * 5000}, [(T0_MS, 1.0)])])
    with pytest.raises(PayloadTooLargeError, match="limit of 100") as caught:
        RemoteWriteDecoder(max_body_bytes=100).decode(body)
    assert caught.value.status == 413
    with pytest.raises(PayloadTooLargeError, match="decompresses to"):
        RemoteWriteDecoder(max_decoded_bytes=1000).decode(body)


def test_an_empty_request_decodes_to_an_empty_batch() -> None:
    decoded = RemoteWriteDecoder().decode(encode_write_request([]))
    assert decoded.samples == 0 and decoded.table.num_rows == 0
