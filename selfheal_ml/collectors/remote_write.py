"""Decode a Prometheus remote write 1.0 body into a MetricsStore batch.

A body is a snappy block (``cramjam``) holding a ``prometheus.WriteRequest`` (``protobuf``,
see :mod:`selfheal_ml.collectors.remote_write_schema`). :class:`RemoteWriteDecoder` turns it
into an Arrow table with the store's columns ``series, ts, value``: ``series`` is the
canonical key (:func:`~selfheal_ml.events.series_key`) of ``__name__`` and the other labels,
so a remote-written series and the same series scraped by us are one series.

Limits come first, so a hostile body costs nothing: a body longer than
``max_body_bytes`` or one whose snappy header announces more than ``max_decoded_bytes`` is
refused (:class:`PayloadTooLargeError`, HTTP 413) before it is decompressed. A body that is
not snappy, not a ``WriteRequest``, or has a series without ``__name__`` is refused
(:class:`MalformedWriteError`, HTTP 400) as a whole: nothing of it is stored.

Non-finite samples are dropped and counted: ``NaN`` is how Prometheus marks a series gone
stale, and the store keeps finite numbers only.

Series keys are cached by the shape of the series on the wire: its label bytes and one empty
sample per sample (:func:`keyed_write_request_class`, re-serialized without the sample
fields), bounded and cleared when full. So a series Prometheus sends every scrape interval
costs one dictionary look-up, done for the whole request in C (``map``).
Samples are read as two columns by the protobuf parser
(:mod:`selfheal_ml.collectors.remote_write_columns`), so there is no Python work per sample;
a body whose samples are encoded unusually (fields out of order or repeated) is read one
``Sample`` message at a time instead, with the same result.

pyarrow (about 26 MB of RSS) is imported by the first decode, not by this module: an API
process that never receives a remote write body does not hold it.

>>> decoder = RemoteWriteDecoder()
>>> body = encode_write_request([({"__name__": "up", "job": "api"}, [(1_700_000_000_000, 1.0)])])
>>> decoded = decoder.decode(body)
>>> decoded.table.column("series").to_pylist(), decoded.samples, decoded.dropped
(['up{job="api"}'], 1, 0)
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import cramjam
import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError

from selfheal_ml.collectors.remote_write_columns import SampleColumns, sample_columns
from selfheal_ml.collectors.remote_write_schema import (
    indexed_write_request_class,
    keyed_time_series_class,
    keyed_write_request_class,
    label_class,
    write_request_class,
)
from selfheal_ml.events import series_key

if TYPE_CHECKING:
    import pyarrow as pa

#: Default refusal limits: Prometheus sends at most a few MiB (2000 samples by default).
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_DECODED_BYTES = 64 * 1024 * 1024
#: Distinct label sets whose series key is remembered before the cache starts over.
KEY_CACHE_SIZE = 200_000

#: A series shape's key, labels (without ``__name__``) and number of samples.
_Shape = tuple[str, dict[str, str], int]
_SERIALIZED = operator.methodcaller("SerializeToString")
_KEY, _LABELS, _COUNT = operator.itemgetter(0), operator.itemgetter(1), operator.itemgetter(2)


class RemoteWriteError(ValueError):
    """A refused remote write body; ``status`` is the HTTP status to answer."""

    status = 400


class MalformedWriteError(RemoteWriteError):
    """Not a snappy-compressed ``WriteRequest`` we can store (HTTP 400)."""

    status = 400


class PayloadTooLargeError(RemoteWriteError):
    """Compressed or announced decompressed size above the limit (HTTP 413)."""

    status = 413


@dataclass(frozen=True)
class DecodedWrite:
    """One decoded body: the batch, the labels of each series in it, and counts."""

    table: pa.Table
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    samples: int = 0
    dropped: int = 0

    @functools.cached_property
    def newest(self) -> dict[str, tuple[int, float]]:
        """The newest ``(timestamp_ms, value)`` of each series (what scoring gets); of two
        samples at the same time, the later in the body. Computed when first asked for, so
        storing a body does not pay for it."""
        import pyarrow as pa

        if self.table.num_rows == 0:
            return {}
        encoded = self.table.column("series").combine_chunks().dictionary_encode()
        codes = encoded.indices.to_numpy()
        stamps = self.table.column("ts").cast(pa.int64()).to_numpy()
        values = self.table.column("value").to_numpy()
        order = np.lexsort((np.arange(len(codes)), stamps, codes))
        last = order[np.r_[codes[order][1:] != codes[order][:-1], True]]
        keys = encoded.dictionary.to_pylist()
        return {
            keys[code]: (stamp, value)
            for code, stamp, value in zip(
                codes[last].tolist(), stamps[last].tolist(), values[last].tolist(), strict=True
            )
        }


class RemoteWriteDecoder:
    """Snappy + protobuf body -> Arrow batch, with size limits (see the module doc)."""

    def __init__(
        self,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_decoded_bytes: int = MAX_DECODED_BYTES,
        key_cache_size: int = KEY_CACHE_SIZE,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.max_decoded_bytes = max_decoded_bytes
        self.key_cache_size = key_cache_size
        self._keys: dict[bytes, _Shape] = {}

    def decode(self, body: bytes) -> DecodedWrite:
        """The batch of ``body``; raises :class:`RemoteWriteError` (nothing half-decoded)."""
        raw = self._decompress(body)
        try:
            request = keyed_write_request_class().FromString(raw)
            columns = sample_columns(raw)
        except DecodeError as exc:
            raise MalformedWriteError(f"body: not a prometheus.WriteRequest ({exc})") from exc
        request.DiscardUnknownFields()  # sample fields and anything else: not part of a key
        shapes = list(map(_SERIALIZED, request.timeseries))
        cached = list(map(self._keys.get, shapes))  # no Python code per known series
        known: list[_Shape] = (
            [entry or self._remember(shape) for entry, shape in zip(cached, shapes, strict=True)]
            if None in cached
            else cast("list[_Shape]", cached)
        )
        counts = np.fromiter(map(_COUNT, known), np.int64, len(known))
        if columns is None or int(counts.sum()) != len(columns.values):
            return self._decode_messages(raw)
        return self._batch(known, counts, columns)

    def _batch(
        self,
        known: list[_Shape],
        counts: npt.NDArray[np.int64],
        columns: SampleColumns,
    ) -> DecodedWrite:
        """The Arrow batch of columns read at once (:mod:`.remote_write_columns`)."""
        import pyarrow as pa

        series_of_sample = np.repeat(np.arange(len(known)), counts)
        values, stamps = columns.values, columns.stamps
        finite = np.isfinite(values)
        dropped = len(values) - int(finite.sum())
        if dropped:
            series_of_sample, values, stamps = (
                series_of_sample[finite],
                values[finite],
                stamps[finite],
            )
        keys = pa.array(list(map(_KEY, known)), pa.string())
        if dropped or not bool((counts == 1).all()):  # else one sample each: keys as they are
            indices = pa.array(series_of_sample, pa.int32())
            keys = pa.DictionaryArray.from_arrays(indices, keys).cast(pa.string())
        table = pa.table(
            {
                "series": keys,
                "ts": pa.array(stamps, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
                "value": pa.array(values, pa.float64()),
            }
        )
        labels = dict(zip(map(_KEY, known), map(_LABELS, known), strict=True))
        return DecodedWrite(table, labels, len(values), dropped)

    def _decode_messages(self, raw: bytes) -> DecodedWrite:
        """The batch read one ``Sample`` message at a time: for samples whose encoding the
        column read does not trust (fields out of order or repeated)."""
        import pyarrow as pa

        request = self._parse(raw)
        keys: list[str] = []
        timestamps: list[int] = []
        values: list[float] = []
        add_key, add_timestamp, add_value = keys.append, timestamps.append, values.append
        seen: dict[str, dict[str, str]] = {}
        dropped = 0
        isfinite = math.isfinite
        for series in request.timeseries:
            key, labels = self._label_set(tuple(series.labels))
            seen[key] = labels
            for sample in series.samples:
                value = sample.value
                if isfinite(value):
                    add_key(key)
                    add_timestamp(sample.timestamp)
                    add_value(value)
                else:
                    dropped += 1
        table = pa.table(
            {
                "series": pa.array(keys, pa.string()),
                "ts": pa.array(timestamps, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
                "value": pa.array(values, pa.float64()),
            }
        )
        return DecodedWrite(table, seen, len(keys), dropped)

    def _decompress(self, body: bytes) -> bytes:
        if len(body) > self.max_body_bytes:
            raise PayloadTooLargeError(
                f"body: {len(body)} bytes, more than the limit of {self.max_body_bytes}"
            )
        try:
            announced = int(cramjam.snappy.decompress_raw_len(body))
        except cramjam.DecompressionError as exc:
            raise MalformedWriteError(f"body: not snappy block data ({exc})") from exc
        if announced > self.max_decoded_bytes:
            raise PayloadTooLargeError(
                f"body: decompresses to {announced} bytes, more than the limit of "
                f"{self.max_decoded_bytes}"
            )
        try:
            return bytes(cramjam.snappy.decompress_raw(body))
        except cramjam.DecompressionError as exc:
            raise MalformedWriteError(f"body: corrupt snappy data ({exc})") from exc

    @staticmethod
    def _parse(raw: bytes) -> Any:
        try:
            return indexed_write_request_class().FromString(raw)
        except DecodeError as exc:
            raise MalformedWriteError(f"body: not a prometheus.WriteRequest ({exc})") from exc

    def _remember(self, shape: bytes) -> _Shape:
        """Key, labels and sample count of a series shape not seen before; cached."""
        series = keyed_time_series_class().FromString(shape)
        key, labels = self._label_set(tuple(series.labels))
        if len(self._keys) >= self.key_cache_size:
            self._keys.clear()
        known = (key, labels, len(series.samples))
        self._keys[shape] = known
        return known

    @staticmethod
    def _label_set(raw_labels: tuple[bytes, ...]) -> tuple[str, dict[str, str]]:
        """Decode and check one label set: its series key and labels without ``__name__``."""
        decoded: dict[str, str] = {}
        label = label_class()
        try:
            for raw in raw_labels:
                pair = label.FromString(raw)
                decoded[pair.name] = pair.value
        except DecodeError as exc:
            raise MalformedWriteError(f"timeseries.labels: not a Label ({exc})") from exc
        name = decoded.pop("__name__", "")
        if not name:
            raise MalformedWriteError(
                f"timeseries.labels: a series without __name__ (labels {sorted(decoded)})"
            )
        return series_key(name, decoded), decoded


def encode_write_request(
    series: Iterable[tuple[dict[str, str], Sequence[tuple[int, float]]]],
) -> bytes:
    """A snappy-compressed ``WriteRequest`` of ``(labels, [(timestamp_ms, value), ...])``.

    The sender's side, for tests, benchmarks and tools; labels are sent sorted by name, as
    Prometheus does.
    """
    request = write_request_class()()
    for labels, samples in series:
        entry = request.timeseries.add()
        for name in sorted(labels):
            entry.labels.add(name=name, value=labels[name])
        for timestamp_ms, value in samples:
            entry.samples.add(value=value, timestamp=timestamp_ms)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
