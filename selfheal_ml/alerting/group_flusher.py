"""GroupFlusher: the AlertManager's group notifications, from due timer to delivery.

:meth:`GroupFlusher.due_flushes` runs under the manager's lock: it regroups alerts whose group
is gone (``group_by`` changed across a restart), drops due groups with no member left, plans a
flush (:func:`~selfheal_ml.alerting.flush.plan_flush`) for every other due group and moves its
timer ``group_interval_s`` on (written to the store only when the flush sends something: a
restarted manager then looks at a quiet group once early, and the notification log keeps it
from repeating what was sent). :meth:`GroupFlusher.deliver` then sends each plan outside the
lock, so a slow webhook never blocks ``fire``, and takes the lock only to record the delivery
and release the flushed resolutions. Only due groups are touched; the store is written through.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from selfheal_ml.alerting.dispatch import new_group_row
from selfheal_ml.alerting.flush import (
    FlushPlan,
    delivery_row,
    log_entries,
    plan_flush,
    send_safely,
)
from selfheal_ml.alerting.notifiers import Notifier
from selfheal_ml.alerting.payload import Notification
from selfheal_ml.alerting.ports import AlertStateStore
from selfheal_ml.alerting.silences import Silence
from selfheal_ml.alerting.state import AlertState, alert_from_row


class GroupFlusher:
    """Due group flushes of one AlertManager (its store, state, lock and notifiers)."""

    def __init__(
        self,
        store: AlertStateStore,
        state: AlertState,
        lock: threading.RLock,
        notifiers: Sequence[Notifier],
        *,
        group_wait_s: float,
        group_interval_s: float,
        repeat_interval_s: float,
        receiver: str,
        external_url: str,
    ) -> None:
        self.store = store
        self.state = state
        self.lock = lock
        self.notifiers = tuple(notifiers)
        self.group_wait_s = group_wait_s
        self.group_interval_s = group_interval_s
        self.repeat_interval_s = repeat_interval_s
        self.receiver = receiver
        self.external_url = external_url

    def due_flushes(self, now: datetime, silences: list[Silence]) -> list[FlushPlan]:
        """Plan every due group (regrouping orphans, dropping empty groups); lock held."""
        state = self.state
        for key in state.members.keys() - state.groups.keys():  # grouping changed since firing
            self._add_group(key, now)
        flushes: list[FlushPlan] = []
        schedule: dict[str, datetime] = {}
        for key, group in list(state.groups.items()):
            if group["next_flush_at"] > now:
                continue
            if key not in state.members:
                self.store.delete_group(key)
                del state.groups[key]
                continue
            schedule[key] = now + timedelta(seconds=self.group_interval_s)
            members = [alert_from_row(state.rows[aid], silences, now) for aid in state.members[key]]
            members.sort(key=lambda alert: (alert.starts_at, alert.alert_id))
            log = log_entries(self.store.notify_log(key))
            plan = plan_flush(
                key,
                group["group_labels"],
                members,
                log,
                notifier_names=[notifier.name for notifier in self.notifiers],
                now=now,
                repeat_interval_s=self.repeat_interval_s,
                receiver=self.receiver,
                external_url=self.external_url,
            )
            flushes.append(plan)
        for key, moment in schedule.items():
            state.groups[key]["next_flush_at"] = moment
        sending = {plan.group_key for plan in flushes if plan.due}
        if sending:  # a look that sends nothing moves its timer in memory only
            self.store.schedule_groups({key: schedule[key] for key in sending})
        return flushes

    def deliver(self, plan: FlushPlan, now: datetime) -> Notification | None:
        """Send a plan to its due notifiers (outside the lock) and record the outcome."""
        payload = plan.payload
        delivered: list[str] = []
        failed: list[str] = []
        for notifier in self.notifiers:
            if payload is None or notifier.name not in plan.due:
                continue
            error = send_safely(notifier, payload)
            (failed if error else delivered).append(notifier.name)
            with self.lock:
                self.store.record_delivery(delivery_row(plan, payload, notifier.name, now, error))
                self.state.count("notifications_failed" if error else "notifications_sent", 1)
        with self.lock:
            if not failed:
                if plan.release:
                    self.store.release_alerts(plan.release)
                    self.state.release(plan.release)
                if plan.closing:
                    self._drop_group_if_empty(plan.group_key)
        if payload is None or not plan.due:
            return None
        return Notification(
            group_key=plan.group_key,
            sent_at=now,
            payload=payload,
            delivered_to=tuple(delivered),
            failed=tuple(failed),
        )

    def _drop_group_if_empty(self, key: str) -> None:
        if key not in self.state.members and key in self.state.groups:
            self.store.delete_group(key)
            del self.state.groups[key]

    def _add_group(self, key: str, now: datetime) -> None:
        rows = [self.state.rows[alert_id] for alert_id in self.state.members[key]]
        oldest = min(row["starts_at"] for row in rows)
        group = new_group_row(
            rows[0]["labels"], self.state.group_by, now, oldest, self.group_wait_s
        )
        self.store.add_group(group)
        self.state.groups[key] = group
