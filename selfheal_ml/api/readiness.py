"""Readiness checks: what ``/ready`` asks before it says the service can take traffic.

Each check answers ``"ok"`` or the reason it failed, so an operator reading ``/ready`` sees
which one it was:

- ``runtime``: the runtime has started;
- ``database_write``: the store accepts a write (a one-row upsert, committed), so an
  unwritable data directory, a read-only file or a full disk turn the service not ready
  instead of failing every write behind a 200;
- ``disk_free``: the data directory's file system has at least ``min_free_disk_bytes`` free
  (so the operator hears before the disk is full, not after);
- ``agents``: no enabled agent has failed for good.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from selfheal_ml.errors import StorageError

OK = "ok"


def _disk_free(db_path: str, minimum: int) -> str:
    if db_path == ":memory:":
        return OK
    folder = Path(db_path).resolve().parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        return f"cannot read free space of {folder}: {exc}"
    if free < minimum:
        return f"{free} bytes free on {folder}, at least {minimum} required"
    return OK


def _write(runtime: Any) -> str:
    try:
        runtime.database.probe_write()
    except StorageError as exc:
        return str(exc)
    return OK


def _agents(runtime: Any) -> str:
    failed = [
        f"{name} failed: {status.last_error}"
        for name, status in runtime.agent_statuses().items()
        if status.failed
    ]
    return "; ".join(failed) or OK


def readiness_checks(runtime: Any, db_path: str, min_free_disk_bytes: int) -> dict[str, str]:
    """Every check by name, ``"ok"`` or why it failed (``runtime`` may be ``None``)."""
    if runtime is None:
        return {"runtime": "runtime not started"}
    return {
        "runtime": OK,
        "database_write": _write(runtime),
        "disk_free": _disk_free(db_path, min_free_disk_bytes),
        "agents": _agents(runtime),
    }
