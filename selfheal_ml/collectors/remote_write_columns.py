"""Every sample of a remote write request as two columns, read by the protobuf parser in C.

A ``WriteRequest`` holds one ``Sample`` message per sample. Reading them one message at a
time costs a Python object and two attribute reads per sample. Here the request is parsed
as if all its series were one (:func:`column_write_request_class`: a non-repeated message
field seen again is merged, and merging appends repeated fields), so the parser hands back
every ``value`` and every ``timestamp`` on the wire as two arrays in request order.

What merging loses is which sample each field came from, and proto3 senders leave out a
field equal to zero (Prometheus sends ``value: 0`` as a sample with a timestamp only). So
the encoded bytes of every sample are read as well
(:func:`sample_bytes_write_request_class`), and the first bytes of each tell which fields
it carries: a sample starting with the ``value`` tag has a value (and a timestamp when the
tag after the 8-byte double is the ``timestamp`` tag), one starting with the ``timestamp``
tag has a timestamp only. Missing fields are zero, as the protobuf parser would read them.

The inference is only trusted when it accounts for every field the parser found: each
inferred field is there at least once, so equal totals mean each sample holds exactly the
fields inferred. Otherwise (fields in another order, repeated, or unknown fields before the
timestamp) :func:`sample_columns` returns ``None`` and the caller reads messages one by one.

>>> from selfheal_ml.collectors.remote_write_schema import write_request_class
>>> request = write_request_class()()
>>> series = request.timeseries.add()
>>> _ = series.samples.add(value=2.5, timestamp=1000)
>>> _ = series.samples.add(value=0.0, timestamp=2000)  # the value is not on the wire
>>> columns = sample_columns(request.SerializeToString())
>>> columns.values.tolist(), columns.stamps.tolist()
([2.5, 0.0], [1000, 2000])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from selfheal_ml.collectors.remote_write_schema import (
    column_write_request_class,
    sample_bytes_write_request_class,
)

_VALUE_TAG = 0x09  # field 1, 64-bit
_STAMP_TAG = 0x10  # field 2, varint
_VALUE_BYTES = 9  # the tag and the double


@dataclass(frozen=True)
class SampleColumns:
    """The value and timestamp (ms) of every sample of a request, in request order."""

    values: npt.NDArray[np.float64]
    stamps: npt.NDArray[np.int64]


def sample_columns(raw: bytes) -> SampleColumns | None:
    """The samples of the decompressed request ``raw`` as columns, or ``None`` when their
    encoding is not the plain one (see the module doc); raises ``DecodeError`` on a body
    that is not a ``WriteRequest``."""
    merged = column_write_request_class().FromString(raw).timeseries.samples
    encoded = sample_bytes_write_request_class().FromString(raw).timeseries.samples
    count = len(encoded)
    lengths = np.fromiter(map(len, encoded), np.int64, count)
    joined = np.frombuffer(b"".join(encoded), np.uint8)
    starts = np.cumsum(lengths) - lengths
    first = np.zeros(count, np.uint8)
    present = lengths > 0
    first[present] = joined[starts[present]]
    has_value = first == _VALUE_TAG
    after_value = np.zeros(count, np.uint8)
    followed = has_value & (lengths > _VALUE_BYTES)
    after_value[followed] = joined[starts[followed] + _VALUE_BYTES]
    has_stamp = (first == _STAMP_TAG) | (after_value == _STAMP_TAG)
    values_found = np.array(merged.value, np.float64)
    stamps_found = np.array(merged.timestamp, np.int64)
    if int(has_value.sum()) != len(values_found) or int(has_stamp.sum()) != len(stamps_found):
        return None
    values = np.zeros(count, np.float64)
    values[has_value] = values_found
    stamps = np.zeros(count, np.int64)
    stamps[has_stamp] = stamps_found
    return SampleColumns(values, stamps)
