"""``POST /api/v1/write``: Prometheus remote write 1.0 into the MetricsStore.

Point Prometheus at it::

    remote_write:
      - url: http://selfheal:8000/api/v1/write
        authorization: {credentials: <SELFHEAL_ADMIN_TOKEN>}

The body is read up to ``remote_write.max_body_bytes`` (more: 413 without reading on; a
chunked body is spooled to a temporary file past 1 MiB while it is counted), then
decoded and stored in a worker thread (:mod:`selfheal_ml.api.remote_write_ingest`). Answers:
204 stored, 400 malformed (snappy, protobuf, a series without ``__name__``, bad values),
413 too large, 401 without the bearer token. A 4xx is final for Prometheus (it does not
retry it), a 5xx is retried.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response

from selfheal_ml.api.body_limit import SPOOL_IN_MEMORY_BYTES, BodyTooLargeError, read_within
from selfheal_ml.api.deps import AdminDep, RuntimeDep
from selfheal_ml.api.remote_write_ingest import RemoteWriteIngest
from selfheal_ml.collectors.remote_write import (
    MalformedWriteError,
    PayloadTooLargeError,
    RemoteWriteError,
)
from selfheal_ml.errors import ValidationError

router = APIRouter(tags=["remote write"])


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) past ``limit`` bytes without reading the rest.

    A declared length within the limit is read into memory; a chunked body is spooled
    (:func:`~selfheal_ml.api.body_limit.read_within`), so one refused at the limit has not
    held the limit in memory.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body: {declared} bytes, more than the limit of {limit}")
    in_memory = int(declared) + 1 if declared is not None and declared.isdigit() else 0
    try:
        return await read_within(request.stream(), limit, in_memory or SPOOL_IN_MEMORY_BYTES)
    except BodyTooLargeError as error:
        raise PayloadTooLargeError(str(error)) from error


def _refuse(ingest: RemoteWriteIngest, error: RemoteWriteError) -> HTTPException:
    outcome = "too_large" if isinstance(error, PayloadTooLargeError) else "malformed"
    ingest.counters.record(outcome)
    return HTTPException(status_code=error.status, detail={"error": str(error), "field": "body"})


@router.post("/api/v1/write", status_code=204)
async def remote_write(request: Request, runtime: RuntimeDep, _: AdminDep) -> Response:
    """Store one remote write request (see the module doc)."""
    ingest: RemoteWriteIngest = request.app.state.remote_write
    encoding = request.headers.get("content-encoding", "snappy").lower()
    if encoding != "snappy":
        error = MalformedWriteError(f"header.Content-Encoding: expected snappy, got {encoding!r}")
        raise _refuse(ingest, error)
    try:
        body = await _read_body(request, ingest.decoder.max_body_bytes)
        decoded, event = await asyncio.to_thread(ingest.store_for_scoring, body, runtime.metrics)
    except RemoteWriteError as error:
        raise _refuse(ingest, error) from error
    except ValidationError as error:  # the store refused a value (e.g. a timestamp)
        raise _refuse(ingest, MalformedWriteError(str(error))) from error
    ingest.counters.record("ok", decoded.samples, decoded.dropped)
    if event is not None:
        await runtime.bus.publish(event)
    return Response(status_code=204)
