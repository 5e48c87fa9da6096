"""The protobuf messages of Prometheus remote write 1.0, built with the protobuf library.

Remote write 1.0 sends a snappy-compressed ``prometheus.WriteRequest`` (``types.proto`` and
``remote.proto`` of the Prometheus repository): repeated ``TimeSeries``, each with repeated
``Label {name, value}`` and repeated ``Sample {value: double, timestamp: int64 ms}``. Fields
we do not read (metadata, exemplars, native histograms) are skipped by the parser as unknown.

The message classes are built from a ``FileDescriptorProto`` written here, so no ``protoc``
step and no generated file is needed, and only on first use (nothing at import time).

Two shapes of ``WriteRequest`` share one wire format:

- :func:`write_request_class` is the full shape (labels as ``Label`` messages), used to build
  requests (tests, benchmarks) and by anyone who wants plain messages.
- :func:`indexed_write_request_class` reads each series' labels as the raw bytes of its
  ``Label`` messages (a length-delimited field parses as ``bytes`` just as well). The tuple of
  those bytes is a hashable key for the series, so a series seen before costs one dictionary
  look-up instead of one Python access per label: the decoder's hot path.
- :func:`keyed_write_request_class`, :func:`column_write_request_class` and
  :func:`sample_bytes_write_request_class` read a request as columns: the shape (label bytes
  and sample count) of each series, and all samples' values and timestamps as two arrays
  (:mod:`selfheal_ml.collectors.remote_write_columns`).

>>> request = write_request_class()()
>>> series = request.timeseries.add()
>>> series.labels.add(name="__name__", value="up")
name: "__name__"
value: "up"
<BLANKLINE>
>>> _ = series.samples.add(value=1.0, timestamp=1_700_000_000_000)
>>> indexed = indexed_write_request_class().FromString(request.SerializeToString())
>>> label_class().FromString(indexed.timeseries[0].labels[0]).value
'up'
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_FIELD = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _FIELD.LABEL_OPTIONAL, _FIELD.LABEL_REPEATED

#: (field name, number, type, label, message type name or "") per message, as in types.proto.
_MESSAGES: dict[str, tuple[tuple[str, int, int, int, str], ...]] = {
    "Sample": (
        ("value", 1, _FIELD.TYPE_DOUBLE, _OPTIONAL, ""),
        ("timestamp", 2, _FIELD.TYPE_INT64, _OPTIONAL, ""),
    ),
    "Label": (
        ("name", 1, _FIELD.TYPE_STRING, _OPTIONAL, ""),
        ("value", 2, _FIELD.TYPE_STRING, _OPTIONAL, ""),
    ),
    "TimeSeries": (
        ("labels", 1, _FIELD.TYPE_MESSAGE, _REPEATED, ".prometheus.Label"),
        ("samples", 2, _FIELD.TYPE_MESSAGE, _REPEATED, ".prometheus.Sample"),
    ),
    "WriteRequest": (("timeseries", 1, _FIELD.TYPE_MESSAGE, _REPEATED, ".prometheus.TimeSeries"),),
    # the same wire format, with each label kept as its encoded bytes
    "IndexedTimeSeries": (
        ("labels", 1, _FIELD.TYPE_BYTES, _REPEATED, ""),
        ("samples", 2, _FIELD.TYPE_MESSAGE, _REPEATED, ".prometheus.Sample"),
    ),
    "IndexedWriteRequest": (
        ("timeseries", 1, _FIELD.TYPE_MESSAGE, _REPEATED, ".prometheus.IndexedTimeSeries"),
    ),
    # labels as bytes and each sample as a message without fields: once the unknown fields
    # are discarded, a series serializes to its labels and its number of samples (its shape)
    "Empty": (),
    "KeyedTimeSeries": (
        ("labels", 1, _FIELD.TYPE_BYTES, _REPEATED, ""),
        ("samples", 2, _FIELD.TYPE_MESSAGE, _REPEATED, ".prometheus.Empty"),
    ),
    "KeyedWriteRequest": (
        ("timeseries", 1, _FIELD.TYPE_MESSAGE, _REPEATED, ".prometheus.KeyedTimeSeries"),
    ),
    # the series as one merged message (a non-repeated message field seen again is merged):
    # every sample's value and timestamp as two columns, every sample's bytes as one list
    "SampleColumns": (
        ("value", 1, _FIELD.TYPE_DOUBLE, _REPEATED, ""),
        ("timestamp", 2, _FIELD.TYPE_INT64, _REPEATED, ""),
    ),
    "ColumnTimeSeries": (
        ("samples", 2, _FIELD.TYPE_MESSAGE, _OPTIONAL, ".prometheus.SampleColumns"),
    ),
    "ColumnWriteRequest": (
        ("timeseries", 1, _FIELD.TYPE_MESSAGE, _OPTIONAL, ".prometheus.ColumnTimeSeries"),
    ),
    "SampleBytesTimeSeries": (("samples", 2, _FIELD.TYPE_BYTES, _REPEATED, ""),),
    "SampleBytesWriteRequest": (
        ("timeseries", 1, _FIELD.TYPE_MESSAGE, _OPTIONAL, ".prometheus.SampleBytesTimeSeries"),
    ),
}


@functools.cache
def _pool() -> descriptor_pool.DescriptorPool:
    """A private descriptor pool holding the messages above (never the global one)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="selfheal_ml/prometheus_remote_write.proto", package="prometheus", syntax="proto3"
    )
    for message_name, fields in _MESSAGES.items():
        message = file.message_type.add(name=message_name)
        for field_name, number, field_type, label, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=field_type, label=label)
            if type_name:
                field.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


def _message_class(name: str) -> Any:
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(f"prometheus.{name}"))


@functools.cache
def write_request_class() -> Any:
    """``prometheus.WriteRequest`` with labels as messages."""
    return _message_class("WriteRequest")


@functools.cache
def indexed_write_request_class() -> Any:
    """``prometheus.WriteRequest`` with each label as its encoded bytes (see module doc)."""
    return _message_class("IndexedWriteRequest")


@functools.cache
def keyed_write_request_class() -> Any:
    """``prometheus.WriteRequest`` with labels as bytes and samples as empty messages: after
    ``DiscardUnknownFields()`` each series serializes to its shape (labels, sample count)."""
    return _message_class("KeyedWriteRequest")


@functools.cache
def keyed_time_series_class() -> Any:
    """One series of :func:`keyed_write_request_class`: reads a shape back."""
    return _message_class("KeyedTimeSeries")


@functools.cache
def column_write_request_class() -> Any:
    """All series of a ``WriteRequest`` merged into one: ``timeseries.samples.value`` and
    ``.timestamp`` hold every sample's fields present on the wire, in order (see
    :mod:`selfheal_ml.collectors.remote_write_columns` for the zero values proto3 leaves out)."""
    return _message_class("ColumnWriteRequest")


@functools.cache
def sample_bytes_write_request_class() -> Any:
    """All series of a ``WriteRequest`` merged into one: ``timeseries.samples`` is every
    sample's encoded bytes, in order."""
    return _message_class("SampleBytesWriteRequest")


@functools.cache
def label_class() -> Any:
    """``prometheus.Label``: decodes one label's bytes from the indexed shape."""
    return _message_class("Label")
