"""run_blocking: inline in virtual time, in a worker thread in real time."""

from __future__ import annotations

import asyncio
import threading

import pytest

from selfheal_ml.clock import RealClock, SimClock, run_blocking


def _thread_name(tag: str, *, suffix: str = "") -> str:
    return f"{tag}:{threading.current_thread().name}{suffix}"


def test_virtual_time_runs_the_work_inline() -> None:
    async def main() -> str:
        return await run_blocking(SimClock(), _thread_name, "sim", suffix="!")

    assert asyncio.run(main()) == f"sim:{threading.current_thread().name}!"


def test_real_time_runs_the_work_in_a_worker_thread() -> None:
    async def main() -> str:
        return await run_blocking(RealClock(), _thread_name, "real")

    assert asyncio.run(main()) != f"real:{threading.current_thread().name}"


@pytest.mark.parametrize("clock", [SimClock(), RealClock()], ids=["sim", "real"])
def test_errors_reach_the_caller(clock: SimClock | RealClock) -> None:
    def fail() -> None:
        raise ValueError("bad")

    async def main() -> None:
        await run_blocking(clock, fail)

    with pytest.raises(ValueError, match="bad"):
        asyncio.run(main())
