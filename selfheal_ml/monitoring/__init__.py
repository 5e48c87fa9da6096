"""Monitoring rules (pure): the seed's threshold alerts and the platform health roll-up.

Given one collection round of metric points, :func:`evaluate_thresholds` says which threshold
conditions hold (response time > 2 s, error rate > 5 %, any 500s, database connection failure,
authentication failures spiking, CPU and memory above their limits, a target not answering);
:class:`ThresholdTracker` turns consecutive rounds into "started firing" / "cleared" changes;
:func:`platform_health` rolls everything up to healthy / degraded / down per platform.
"""

from selfheal_ml.metric_catalogue import ThresholdLimits
from selfheal_ml.monitoring.health import platform_health
from selfheal_ml.monitoring.thresholds import (
    Changes,
    Finding,
    ThresholdTracker,
    Tracked,
    evaluate_thresholds,
)

__all__ = [
    "Changes",
    "Finding",
    "ThresholdLimits",
    "ThresholdTracker",
    "Tracked",
    "evaluate_thresholds",
    "platform_health",
]
