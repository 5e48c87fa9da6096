"""What each repair action costs when it runs, whether or not it fixes anything.

Actions are not free: a restart drops in-flight requests and resets the process's counters, a
cache flush leaves a cold cache, a restore from backup takes the database away for a minute,
an index build loads the database, scaling out is billed. The costs are :class:`Blip` s (short
side effects) plus a sentence for the audit log.

>>> blip, cost = action_cost(RepairAction.CLEAR_CACHE, platform=0, now_s=100.0, fixed=True)
>>> blip.until_s, blip.cache_cold
(700.0, 0.4)
"""

from __future__ import annotations

from selfheal_ml.sim.catalogue import RepairAction
from selfheal_ml.sim.effects import Blip

SCALE_OUT_FACTOR = 1.5
# an added instance is scaled in again after an hour, as an autoscaler does once the load is
# back: capacity that stayed raised for good (and compounded with every scale-out) made later
# surges on that platform harmless, faults in the ground truth with nothing to see
SCALE_OUT_HOLD_S = 3600.0


def action_cost(
    action: RepairAction, platform: int, now_s: float, fixed: bool
) -> tuple[Blip | None, str]:
    """The side effect of running ``action`` on ``platform`` at ``now_s`` and its description."""
    if action is RepairAction.RESTART_SERVICE:
        return (
            Blip(platform, now_s + 30.0, error5=0.05),
            "restart dropped in-flight requests (5xx for 30 s) and reset the process counters",
        )
    if action is RepairAction.CLEAR_CACHE:
        return Blip(None, now_s + 600.0, cache_cold=0.4), "cache emptied: cold for ~10 min"
    if action is RepairAction.RESET_DB_CONNECTIONS:
        return (
            Blip(None, now_s + 15.0, error5=0.02),
            "every database connection was dropped (errors on all platforms for 15 s)",
        )
    if action is RepairAction.RESTORE_FROM_BACKUP:
        return (
            Blip(None, now_s + 60.0, db_down=True),
            "database restored from the nightly backup: 60 s outage, later writes lost",
        )
    if action in (RepairAction.ADD_INDEX, RepairAction.REINDEX):
        return Blip(None, now_s + 300.0, db_query_mult=1.3), "index build loaded the database"
    if action is RepairAction.SCALE_OUT:
        hours = SCALE_OUT_HOLD_S / 3600
        return None, f"one more instance for {hours:g} h: capacity x{SCALE_OUT_FACTOR}"
    if action is RepairAction.BLOCK_IP:
        if fixed:
            return None, "blocked the attacking address for 1 h"
        return (
            Blip(platform, now_s + 600.0, login_error4=0.05),
            "blocked a legitimate busy address: some users get 403 at login for 10 min",
        )
    if action is RepairAction.ROLLBACK_CONFIG:
        return None, "configuration rolled back to the previous version"
    if action is RepairAction.RESTART_BACKGROUND_JOB:
        return None, "background job restarted"
    return None, "temporary files removed"
