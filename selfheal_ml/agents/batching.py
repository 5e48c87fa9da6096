"""A write buffer for agents: collect rows, write them in one batch every so often.

With ``every_s = 0`` every ``add`` writes at once (the service's default: nothing waits in
memory). Virtual-time replays set a larger interval so DuckDB sees fewer, larger batches.
Writes run through :func:`~selfheal_ml.clock.run_blocking`: in a worker thread in real time,
never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Generic, TypeVar

from selfheal_ml.clock import Clock, run_blocking

Row = TypeVar("Row")


class BatchWriter(Generic[Row]):
    """Buffers rows and hands them to ``write`` at most every ``every_s`` seconds of clock time."""

    def __init__(
        self, write: Callable[[list[Row]], object], clock: Clock, every_s: float = 0.0
    ) -> None:
        self.write = write
        self.clock = clock
        self.every_s = every_s
        self.pending: list[Row] = []
        self.last_written: datetime | None = None

    async def add(self, rows: Iterable[Row], now: datetime) -> None:
        """Buffer ``rows``; write the buffer if it is due."""
        self.pending.extend(rows)
        due = self.last_written is None or (now - self.last_written).total_seconds() >= self.every_s
        if due:
            await self.flush()
            self.last_written = now

    async def flush(self) -> None:
        """Write whatever is buffered."""
        if self.pending:
            batch, self.pending = self.pending, []
            await run_blocking(self.clock, self.write, batch)
