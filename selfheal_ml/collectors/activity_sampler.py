"""What repeated looks at ``pg_stat_activity`` reveal: executions, their durations, traces.

Each row of a look is a session's current or last query: ``(pid, query_start)`` identifies one
execution. An active one has run at least ``now - query_start``; an idle one finished at
``state_change``, so its duration is exact. Executions seen in several looks count once.

Without ``pg_stat_statements`` this is the only source of per-query figures: calls are the
executions seen (a lower bound), the mean is over the durations seen (long executions are more
likely to be seen, so the mean leans high). Whatever the source, the sqlcommenter
``traceparent`` comments in the texts tell how many executions of one query one request made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selfheal_ml.performance import StatementStats, TraceObservation, fingerprint
from selfheal_ml.performance import trace_id as read_trace_id
from selfheal_ml.performance.normalise import normalise


@dataclass
class _Execution:
    fingerprint: str
    text: str
    trace: str | None
    duration_ms: float


class ActivitySampler:
    """Accumulates looks at ``pg_stat_activity`` taken after ``window_start``."""

    def __init__(self, window_start: datetime) -> None:
        self.window_start = window_start
        self.looks = 0
        self._executions: dict[tuple[int, datetime], _Execution] = {}
        self._texts: dict[str, str] = {}

    def observe(self, rows: list[tuple[Any, ...]]) -> None:
        """Add one look: rows of ``(pid, query, state, query_start, state_change, now)``."""
        self.looks += 1
        for pid, query, state, query_start, state_change, now in rows:
            active = state == "active"
            if not active and (state_change is None or state_change < self.window_start):
                continue  # finished before the window opened
            end = now if active or state_change is None else state_change
            duration_ms = max(0.0, (end - query_start).total_seconds() * 1000.0)
            key = (int(pid), query_start)
            known = self._executions.get(key)
            if known is not None:
                known.duration_ms = max(known.duration_ms, duration_ms)
                continue
            text = str(query)
            query_fingerprint = fingerprint(text)
            self._texts.setdefault(query_fingerprint, normalise(text))
            self._executions[key] = _Execution(
                query_fingerprint, text, read_trace_id(text), duration_ms
            )

    def statements(self) -> list[StatementStats]:
        """Per fingerprint: executions seen and their mean duration."""
        durations: dict[str, list[float]] = defaultdict(list)
        for execution in self._executions.values():
            durations[execution.fingerprint].append(execution.duration_ms)
        return [
            StatementStats(
                fingerprint=query_fingerprint,
                query=self._texts[query_fingerprint],
                calls=len(seen),
                mean_ms=sum(seen) / len(seen),
                source="sampling",
            )
            for query_fingerprint, seen in durations.items()
        ]

    def traces(self) -> list[TraceObservation]:
        """Per (fingerprint, trace id): distinct executions seen inside that request."""
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for execution in self._executions.values():
            if execution.trace is not None:
                counts[(execution.fingerprint, execution.trace)] += 1
        return [
            TraceObservation(fingerprint=query_fingerprint, trace_id=trace, executions=count)
            for (query_fingerprint, trace), count in counts.items()
        ]

    def texts(self) -> dict[str, str]:
        """A normalised text per fingerprint seen."""
        return dict(self._texts)
