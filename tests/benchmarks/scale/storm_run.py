"""One anomaly storm through the diagnosis and the anomaly store; prints JSON.

``python storm_run.py PLATFORMS SERIES ROUNDS``: every round, each of ``SERIES`` series on each
of ``PLATFORMS`` platforms turns anomalous (an ``AnomalyDetected`` at twenty times its expected
high, a database series among them so the platforms' request symptoms relate), the Diagnostic
agent takes them all, the anomaly store records them in one call (as the Predictive agent
does), then a health tick diagnoses the open incidents. CPU time of the whole storm
(``time.process_time``). Run by ``test_scale.py``, here and on the baseline's code.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime


async def main(platforms: int, series: int, rounds: int) -> dict[str, object]:
    import selfheal_ml
    from selfheal_ml.agents.base import AgentContext
    from selfheal_ml.agents.diagnostic import DiagnosticAgent
    from selfheal_ml.bus import InMemoryEventBus
    from selfheal_ml.clock import SimClock
    from selfheal_ml.events import AnomalyDetected, Tick
    from selfheal_ml.storage import Database
    from selfheal_ml.storage.anomalies import AnomalyRecord, AnomalyStore

    clock = SimClock(datetime(2026, 1, 5, tzinfo=UTC))
    names = [f"platform-{index}" for index in range(platforms)]
    agent = DiagnosticAgent(
        AgentContext(bus=InMemoryEventBus(), clock=clock, extras={"platforms": names})
    )
    store = AnomalyStore(Database(":memory:"))
    metrics = ["http_latency_p95_ms", "http_error_ratio", "db_query_duration_ms"]
    started = time.process_time()
    diagnosed = 0
    for step in range(rounds):
        ts = clock.now()
        events = [
            AnomalyDetected(
                ts=ts, source="bench", series=f'{metrics[index % 3]}_{index}{{platform="{name}"}}',
                value=2000.0, score=30.0, expected_low=50.0, expected_high=100.0,
                detector="median", severity="critical", labels={"platform": name},
                explanation="storm",
            )
            for name in names
            for index in range(series)
        ]  # fmt: skip
        for event in events:
            await agent.handle(event)
        store.record_anomalies(
            [
                AnomalyRecord(event.event_id, event.series, event.ts, event.value, event.score,
                              event.expected_low, event.expected_high, event.detector,
                              event.correlation_id)
                for event in events
            ]
        )  # fmt: skip
        diagnosed += len(await agent.handle(Tick(ts=ts, source="bench", kind="health")))
        clock.advance(30.0)
        del step
    return {
        "code": os.path.dirname(selfheal_ml.__file__),
        "anomalies": platforms * series * rounds,
        "storm_cpu_s": time.process_time() - started,
        "open_incidents": len(agent.grouper.open),
        "diagnoses": diagnosed,
    }


if __name__ == "__main__":
    platforms, series, rounds = (int(argument) for argument in sys.argv[1:4])
    print("RESULT " + json.dumps(asyncio.run(main(platforms, series, rounds))))
