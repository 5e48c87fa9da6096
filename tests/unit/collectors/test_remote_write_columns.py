"""Samples read as columns: the same batch as reading one message at a time, whatever the
wire form; unusual encodings fall back to the message read."""

from __future__ import annotations

import random
import struct

import cramjam
import pyarrow as pa
import pytest

from selfheal_ml.collectors.remote_write import RemoteWriteDecoder, encode_write_request
from selfheal_ml.collectors.remote_write_columns import sample_columns

T0_MS = 1_767_571_200_000


def _messages(decoder: RemoteWriteDecoder, body: bytes) -> pa.Table:
    """The batch as the one-message-at-a-time read makes it (the reference)."""
    raw = bytes(cramjam.snappy.decompress_raw(body))
    return decoder._decode_messages(raw).table


def _random_request(rng: random.Random) -> list[tuple[dict[str, str], list[tuple[int, float]]]]:
    values = [0.0, 1.0, -2.5, float("nan"), float("inf"), 1e300, 0.0, 42.0]
    series = []
    for index in range(rng.randint(0, 30)):
        labels = {"__name__": f"m{index % 4}", "job": rng.choice(["a", "b", ""]), "i": str(index)}
        samples = [
            (rng.choice([0, 1, T0_MS + rng.randint(0, 10**6), -5]), rng.choice(values))
            for _ in range(rng.randint(0, 4))
        ]
        series.append((labels, samples))
    return series


@pytest.mark.parametrize("seed", range(40))
def test_columns_give_the_batch_of_the_message_read(seed: int) -> None:
    """Zero values and timestamps (left off the wire), NaN, several or no samples per series."""
    rng = random.Random(seed)
    body = encode_write_request(_random_request(rng))
    decoder = RemoteWriteDecoder()
    decoded = decoder.decode(body)
    assert decoded.table.equals(_messages(decoder, body))
    assert decoded.samples == decoded.table.num_rows


def _sample(*fields: bytes) -> bytes:
    payload = b"".join(fields)
    return b"\x12" + bytes([len(payload)]) + payload


def _value(value: float) -> bytes:
    return b"\x09" + struct.pack("<d", value)


def _stamp(stamp: int) -> bytes:
    out, rest = bytearray(b"\x10"), stamp
    while True:
        byte, rest = rest & 0x7F, rest >> 7
        out.append(byte | (0x80 if rest else 0))
        if not rest:
            return bytes(out)


def _series(*samples: bytes) -> bytes:
    label = b"\x0a\x08__name__\x12\x02up"
    payload = b"\x0a" + bytes([len(label)]) + label + b"".join(samples)
    return b"\x0a" + bytes([len(payload)]) + payload


@pytest.mark.parametrize(
    "samples",
    [
        (_sample(_stamp(T0_MS), _value(3.0)), _sample(_value(4.0), _stamp(T0_MS + 1))),
        (_sample(_value(1.0), _value(2.0), _stamp(T0_MS)), _sample(_stamp(T0_MS + 1))),
        (_sample(_value(1.0), _stamp(T0_MS), _stamp(T0_MS + 5)), _sample(_value(7.0))),
    ],
    ids=["timestamp first", "value twice", "timestamp twice"],
)
def test_unusual_sample_encodings_fall_back_to_the_message_read(samples: tuple[bytes, ...]) -> None:
    raw = _series(*samples)
    assert sample_columns(raw) is None
    body = bytes(cramjam.snappy.compress_raw(raw))
    decoder = RemoteWriteDecoder()
    assert decoder.decode(body).table.equals(_messages(decoder, body))


def test_a_zero_value_on_the_wire_as_a_timestamp_only_is_read_as_zero() -> None:
    raw = _series(_sample(_stamp(T0_MS)), _sample(_value(2.0), _stamp(T0_MS + 1)))
    columns = sample_columns(raw)
    assert columns is not None
    assert columns.values.tolist() == [0.0, 2.0]
    assert columns.stamps.tolist() == [T0_MS, T0_MS + 1]


def test_newest_is_the_latest_sample_of_each_series_the_later_one_on_a_tie() -> None:
    body = encode_write_request(
        [
            ({"__name__": "a"}, [(T0_MS + 5, 1.0), (T0_MS + 9, 2.0), (T0_MS + 9, 3.0)]),
            ({"__name__": "b"}, [(T0_MS + 2, float("nan")), (T0_MS + 1, 4.0)]),
            ({"__name__": "a"}, [(T0_MS + 3, 5.0)]),
        ]
    )
    assert RemoteWriteDecoder().decode(body).newest == {
        "a": (T0_MS + 9, 3.0),
        "b": (T0_MS + 1, 4.0),
    }
