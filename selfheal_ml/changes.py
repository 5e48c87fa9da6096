"""A configuration change, as a deploy log shows it: the one record the diagnosis reads.

A bad push and a crash look the same from outside; a change just before the errors separates
them. The simulator's deploy log (:meth:`selfheal_ml.sim.Simulator.config_changes`) and the
live change feed (:mod:`selfheal_ml.collectors.change_feed`) both produce these, so the
Diagnostic agent reads one type whichever feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ConfigChange:
    """A configuration change of one platform (no ground truth in here); ``rollback``: a
    return to the previous configuration (deploy tools mark those), which ends the suspicion
    of the changes before it."""

    change_id: str
    ts: datetime
    platform: str
    description: str
    rollback: bool = False
