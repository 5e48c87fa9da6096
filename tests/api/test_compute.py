"""The compute pool: pure work in a worker process comes back as the JSON body a route sends,
and a ValidationError raised there is raised here (the routes turn it into a 422)."""

from __future__ import annotations

import json
import os

import pytest

from selfheal_ml.api.compute import WORKER_NICENESS, ComputePool, encoded
from selfheal_ml.errors import ValidationError


def process_id_and_total(values: list[float]) -> dict[str, object]:
    return {"pid": os.getpid(), "total": sum(values)}


def niceness() -> int:
    return os.nice(0)


def refuse(field: str) -> dict[str, object]:
    raise ValidationError(field, "refused in the worker")


def test_encoded_matches_starlette_json_response() -> None:
    from starlette.responses import JSONResponse

    content = {"a": [1.5, None, "é"], "b": {"c": True}}
    assert encoded(content) == JSONResponse(content).body


async def test_isolated_work_runs_in_another_process_and_returns_its_json_body() -> None:
    pool = ComputePool(threads=1, processes=1)
    try:
        body = json.loads(await pool.run_isolated(process_id_and_total, [1.0, 2.5]))
    finally:
        pool.close()
    assert body["total"] == 3.5
    assert body["pid"] != os.getpid()


async def test_the_worker_runs_at_a_lower_cpu_priority_than_the_api() -> None:
    pool = ComputePool(threads=1, processes=1)
    try:
        worker = json.loads(await pool.run_isolated(niceness))
    finally:
        pool.close()
    assert worker >= min(19, os.nice(0) + WORKER_NICENESS)


async def test_a_validation_error_in_the_worker_is_raised_with_its_field() -> None:
    pool = ComputePool(threads=1, processes=1)
    try:
        with pytest.raises(ValidationError) as raised:
            await pool.run_isolated(refuse, "body.history")
    finally:
        pool.close()
    assert raised.value.field == "body.history"
    assert raised.value.problem == "refused in the worker"


async def test_without_processes_the_pure_work_runs_in_a_thread_of_this_process() -> None:
    pool = ComputePool(threads=1, processes=0)
    body = json.loads(await pool.run_isolated(process_id_and_total, [2.0]))
    assert body == {"pid": os.getpid(), "total": 2.0}
