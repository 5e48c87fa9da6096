"""AlertManager: deduplicate, group, silence, auto-resolve and notify, like Alertmanager.

Alerts arrive from bus events (:meth:`AlertManager.handle_event`), from Alertmanager's ingest
shape (:meth:`AlertManager.ingest`, the body of ``POST /api/v2/alerts``) or directly
(:meth:`AlertManager.fire` / :meth:`AlertManager.resolve`). The same label set is one alert
(deduplicated by fingerprint) until it resolves; an alert whose ``ends_at`` passes without a
refresh resolves by itself. :meth:`AlertManager.evaluate`, called periodically, resolves the
expired alerts and sends each due group notification to every notifier: a group waits
``group_wait_s`` before its first notification, is looked at every ``group_interval_s`` and an
unchanged group is repeated after ``repeat_interval_s``. Silenced alerts are stored and
counted but not notified.

All state lives in the store (DuckDB), so a restarted manager sees the same alerts, silences
and counters and does not notify again what it already notified. The constructor loads it into
an in-memory :class:`~selfheal_ml.alerting.state.AlertState`, so the hot paths skip DuckDB:

- a repeat :meth:`fire` (same labels, annotations, severity and generator URL) writes nothing;
  its ``ends_at``/``updated_at`` extension is persisted lazily: with the alert's next real
  change, by :meth:`evaluate` for every pending alert at once (one transaction) at most
  ``persist_interval_s`` of clock time after the first pending one (default
  half of ``resolve_timeout_s``, so the stored ``ends_at`` of an alert refreshed more often
  than that stays in the future), before it resolves, and on :meth:`flush`/:meth:`close`. A
  restart within that lag sees the alert firing with a slightly older ``ends_at``.
- :meth:`evaluate` returns at once before the next due moment (earliest ``ends_at`` expiry,
  group flush or lazy persist) and then touches only the due groups.
- :meth:`counts` and :meth:`active` read memory; new alerts, resolutions, silences, the
  notification log and the counters are written through.

Methods are synchronous and thread-safe; notifier calls happen outside the state lock, so a
slow webhook never blocks :meth:`fire`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from selfheal_ml.alerting.dispatch import new_group_row
from selfheal_ml.alerting.from_events import AlertSignal, signal_from_event
from selfheal_ml.alerting.group_flusher import GroupFlusher
from selfheal_ml.alerting.ingest_batch import IngestBatch
from selfheal_ml.alerting.model import (
    SEVERITIES,
    Alert,
    AlertCounts,
    PostableAlert,
    check_labels,
    fingerprint,
)
from selfheal_ml.alerting.notifiers import Notifier
from selfheal_ml.alerting.payload import Notification
from selfheal_ml.alerting.ports import AlertStateStore, AlertWriter, TimeSource
from selfheal_ml.alerting.silence_book import SilenceBook
from selfheal_ml.alerting.silences import Matcher, Silence
from selfheal_ml.alerting.state import AlertState, alert_from_row
from selfheal_ml.errors import ConfigError, ValidationError
from selfheal_ml.events import Event, Severity

log = logging.getLogger(__name__)

_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


class AlertManager:
    """Alert state machine plus Alertmanager-style grouping, silences and notification."""

    def __init__(
        self,
        store: AlertStateStore,
        clock: TimeSource,
        notifiers: Sequence[Notifier],
        group_by: Sequence[str] = ("alertname",),
        resolve_timeout_s: float = 300.0,
        group_wait_s: float = 30.0,
        group_interval_s: float = 300.0,
        repeat_interval_s: float = 14400.0,
        external_url: str = "http://localhost:8000",
        receiver: str = "selfheal-ml",
        persist_interval_s: float | None = None,
    ) -> None:
        persist_every_s = (
            resolve_timeout_s / 2 if persist_interval_s is None else persist_interval_s
        )
        for setting, value in (
            ("resolve_timeout_s", resolve_timeout_s),
            ("group_interval_s", group_interval_s),
            ("repeat_interval_s", repeat_interval_s),
            ("persist_interval_s", persist_every_s),
        ):
            if not value > 0:
                raise ConfigError(setting, "a number of seconds > 0", value)
        if not group_wait_s >= 0:
            raise ConfigError("group_wait_s", "a number of seconds >= 0", group_wait_s)
        names = [notifier.name for notifier in notifiers]
        if len(names) != len(set(names)):
            raise ConfigError("notifiers", "notifiers with distinct names", names)
        self.store = store
        self.clock = clock
        self.notifiers = tuple(notifiers)
        self.group_by = tuple(group_by)
        self.resolve_timeout_s = resolve_timeout_s
        self.group_wait_s = group_wait_s
        self.group_interval_s = group_interval_s
        self.repeat_interval_s = repeat_interval_s
        self.external_url = external_url
        self.receiver = receiver
        self.persist_interval_s = persist_every_s
        self._state_lock = threading.RLock()
        self._evaluate_lock = threading.Lock()
        self._persist_at: datetime | None = None  # when pending extensions must be written
        self._silence_book = SilenceBook(store)
        self._state = AlertState(self.group_by)
        self._state.load(store.grouped_alerts(), store.groups(), store.counters())
        self._flusher = GroupFlusher(
            store,
            self._state,
            self._state_lock,
            self.notifiers,
            group_wait_s=group_wait_s,
            group_interval_s=group_interval_s,
            repeat_interval_s=repeat_interval_s,
            receiver=receiver,
            external_url=external_url,
        )

    # -- alerts in ------------------------------------------------------------------------------

    def fire(
        self,
        labels: dict[str, str],
        annotations: dict[str, str] | None = None,
        severity: Severity = "warning",
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        generator_url: str = "",
    ) -> Alert:
        """Fire (or refresh) the alert with these labels; ``severity`` joins the labels."""
        if severity not in SEVERITIES:
            raise ValidationError("severity", f"expected one of {SEVERITIES}, got {severity!r}")
        full = {**labels, "severity": severity}
        try:
            check_labels(full)
        except ValueError as exc:
            raise ValidationError("labels", str(exc)) from exc
        for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
            if moment is not None and moment.tzinfo is None:
                raise ValidationError(name, f"expected a timezone-aware datetime, got {moment}")
        now = self.clock.now()
        end = ends_at if ends_at is not None else now + timedelta(seconds=self.resolve_timeout_s)
        with self._state_lock:
            row = self._upsert(
                full, dict(annotations or {}), severity, starts_at or now, end, now, generator_url
            )
            return alert_from_row(row, self._silences(), now)

    def _upsert(
        self,
        labels: dict[str, str],
        annotations: dict[str, str],
        severity: Severity,
        starts_at: datetime,
        ends_at: datetime,
        now: datetime,
        generator_url: str,
        writer: AlertWriter | None = None,
    ) -> dict[str, Any]:
        write = writer or self.store
        alert_fingerprint = fingerprint(labels)
        existing = self._state.firing_row(alert_fingerprint)
        if existing is not None:
            self._refresh(existing, annotations, ends_at, now, generator_url, write)
            return existing
        row = {
            "alert_id": uuid.uuid4().hex,
            "fingerprint": alert_fingerprint,
            "labels": labels,
            "annotations": annotations,
            "severity": severity,
            "status": "firing",
            "starts_at": starts_at,
            "ends_at": ends_at,
            "updated_at": now,
            "generator_url": generator_url,
            "auto_resolved": False,
            "in_group": True,
        }
        group = new_group_row(labels, self.group_by, now, starts_at, self.group_wait_s)
        write.insert_alert(row, group)
        self._state.add_alert(row, group)
        return row

    def _refresh(
        self,
        existing: dict[str, Any],
        annotations: dict[str, str],
        ends_at: datetime,
        now: datetime,
        generator_url: str,
        writer: AlertWriter,
    ) -> None:
        """A repeat fire: only a real change is written now, the extension may wait."""
        alert_id = existing["alert_id"]
        extension = {"ends_at": ends_at, "updated_at": now}
        changes: dict[str, Any] = {}
        if annotations != existing["annotations"]:
            changes["annotations"] = annotations
        if generator_url and generator_url != existing["generator_url"]:
            changes["generator_url"] = generator_url
        if changes:
            writer.update_alert(alert_id, {**extension, **changes})
            self._state.update(alert_id, {**extension, **changes}, lazy=False)
            return
        self._state.update(alert_id, extension, lazy=True)
        if self._persist_at is None:  # evaluate() writes the batch once this moment is due
            self._persist_at = now + timedelta(seconds=self.persist_interval_s)
            self._state.lower_due(self._persist_at)

    def _persist_pending(self) -> None:
        """Write every pending extension in one transaction."""
        pending = self._state.take_pending()
        self._persist_at = None
        if pending:
            self.store.update_alerts(pending)

    def flush(self) -> None:
        """Persist the pending ``ends_at`` extensions of repeat fires now."""
        with self._state_lock:
            self._persist_pending()

    def close(self) -> None:
        """:meth:`flush`; call before closing the store's database."""
        self.flush()

    def resolve(self, labels: dict[str, str], *, auto: bool = True) -> Alert | None:
        """Resolve the firing alert with these labels (any severity if none is given)."""
        now = self.clock.now()
        candidates = (
            [labels]
            if "severity" in labels
            else [{**labels, "severity": severity} for severity in SEVERITIES]
        )
        with self._state_lock:
            found = self._resolve_rows(candidates, now, auto, self.store)
            if not found:
                return None
            most_severe = min(found, key=lambda row: _SEVERITY_RANK[row["severity"]])
            return alert_from_row(most_severe, self._silences(), now)

    def _resolve_rows(
        self, candidates: list[dict[str, str]], now: datetime, auto: bool, writer: AlertWriter
    ) -> list[dict[str, Any]]:
        """Resolve the firing alerts with these label sets (state lock held); their rows."""
        rows = [self._state.firing_row(fingerprint(c)) for c in candidates]
        found = [row for row in rows if row is not None]
        if not found:
            return []
        alert_ids = [row["alert_id"] for row in found]
        self._state.take_pending(alert_ids)  # the resolution overwrites the extension
        changed = writer.resolve_alerts(alert_ids, now, now, auto=auto)
        self._state.mark_resolved(alert_ids, now, now, auto=auto)
        if auto:
            self._state.count("auto_resolved", changed)
        return found

    def ingest(self, alerts: list[PostableAlert]) -> int:
        """Take alerts in Alertmanager's ``POST /api/v2/alerts`` shape; returns how many.

        All or nothing, in one transaction: every alert is checked first (a bad one raises
        ``ValidationError`` naming it and nothing is stored), then the batch is applied to
        the in-memory state and written in one commit. Should that commit fail, the state
        is reloaded from the store, so memory never holds what the store refused.
        """
        now = self.clock.now()
        checked = [self._checked(index, posted) for index, posted in enumerate(alerts)]
        batch = IngestBatch()
        with self._state_lock:
            for posted, labels, severity in checked:
                ends_at = posted.ends_at or now + timedelta(seconds=self.resolve_timeout_s)
                full = {**labels, "severity": severity}
                if ends_at <= now:
                    self._resolve_rows([full], now, True, batch)
                    continue
                annotations = dict(posted.annotations)
                starts_at = posted.starts_at or now
                self._upsert(
                    full,
                    annotations,
                    severity,
                    starts_at,
                    ends_at,
                    now,
                    posted.generator_url,
                    batch,
                )
            try:
                batch.write(self.store)
            except Exception:
                self._reload_state()
                raise
        return len(alerts)

    @staticmethod
    def _checked(index: int, posted: PostableAlert) -> tuple[PostableAlert, dict[str, str], Any]:
        """An ingested alert's labels without ``severity``, and its severity, checked."""
        labels = dict(posted.labels)
        severity = labels.pop("severity", "warning")
        if severity not in SEVERITIES:
            raise ValidationError(
                f"alerts[{index}].labels.severity",
                f"expected one of {SEVERITIES}, got {severity!r}",
            )
        try:
            check_labels({**labels, "severity": severity})
        except ValueError as exc:
            raise ValidationError(f"alerts[{index}].labels", str(exc)) from exc
        return posted, labels, severity

    def _reload_state(self) -> None:
        """Rebuild the in-memory mirror from the store (after a failed batch write)."""
        self._persist_at = None
        self._state = AlertState(self.group_by)
        self._state.load(self.store.grouped_alerts(), self.store.groups(), self.store.counters())
        self._flusher.state = self._state

    def ingest_json(self, body: list[dict[str, Any]]) -> int:
        """:meth:`ingest` for a raw JSON body; malformed entries raise ``ValidationError``."""
        try:
            alerts = [PostableAlert.model_validate(entry) for entry in body]
        except PydanticValidationError as exc:
            raise ValidationError("alerts", str(exc)) from exc
        return self.ingest(alerts)

    def handle_event(self, event: Event) -> Alert | None:
        """Fire or resolve the alert a bus event stands for; ``None`` if it is not one."""
        signal = signal_from_event(event)
        if signal is None:
            return None
        if signal.firing:
            return self.fire(signal.labels, signal.annotations, signal.severity, starts_at=event.ts)
        if signal.any_severity:
            return self.resolve(signal.labels, auto=True)
        return self.resolve({**signal.labels, "severity": signal.severity}, auto=True)

    def handle_events(self, events: Sequence[Event]) -> int:
        """:meth:`handle_event` for many events, written in one transaction; how many were
        alerts. An anomaly storm brings thousands of alerts at once: one commit each cost
        most of its CPU. An event whose labels are not valid is skipped and logged (it alone
        would raise in :meth:`handle_event`); should the commit fail, the state is reloaded
        from the store (as after a failed :meth:`ingest`) and the error raised."""
        now = self.clock.now()
        end = now + timedelta(seconds=self.resolve_timeout_s)
        batch = IngestBatch()
        handled = 0
        with self._state_lock:
            for event in events:
                signal = signal_from_event(event)
                if signal is None:
                    continue
                if not signal.firing:
                    self._resolve_rows(_resolution_candidates(signal), now, True, batch)
                    handled += 1
                    continue
                full = {**signal.labels, "severity": signal.severity}
                try:
                    check_labels(full)
                except ValueError as exc:
                    log.warning("alert from %s skipped: %s", type(event).__name__, exc)
                    continue
                self._upsert(full, dict(signal.annotations), signal.severity, event.ts, end, now,
                             "", batch)  # fmt: skip
                handled += 1
            try:
                batch.write(self.store)
            except Exception:
                self._reload_state()
                raise
        return handled

    # -- evaluation and notification --------------------------------------------------------

    def evaluate(self, now: datetime | None = None) -> list[Notification]:
        """Auto-resolve expired alerts, then send every due group notification.

        Returns at once (no store access) before the next moment something is due.
        """
        with self._evaluate_lock:
            moment = now if now is not None else self.clock.now()
            with self._state_lock:
                due = self._state.next_due
                if due is None or moment < due:
                    return []
                if self._persist_at is not None and moment >= self._persist_at:
                    self._persist_pending()
                self._resolve_expired(moment)
                flushes = self._flusher.due_flushes(moment, self._silences())
                self._state.recompute_due(self._persist_at)
            sent = [self._flusher.deliver(flush, moment) for flush in flushes]
            return [notification for notification in sent if notification is not None]

    def _resolve_expired(self, now: datetime) -> None:
        expired = [row["alert_id"] for row in self._state.expired(now)]
        if not expired:
            return
        pending = self._state.take_pending(expired)
        if pending:  # the stored ends_at must be the one that expired
            self.store.update_alerts(pending)
        changed = self.store.resolve_alerts(expired, None, now, auto=True)
        self._state.mark_resolved(expired, None, now, auto=True)
        self._state.count("auto_resolved", changed)

    # -- silences ---------------------------------------------------------------------------

    def add_silence(
        self,
        matchers: list[Matcher],
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
    ) -> str:
        """Create a silence; returns its id."""
        now = self.clock.now()
        with self._state_lock:
            return self._silence_book.add(matchers, starts_at, ends_at, created_by, comment, now)

    def expire_silence(self, silence_id: str) -> Silence:
        """End a silence now (a pending one never starts); returns it as stored."""
        now = self.clock.now()
        with self._state_lock:
            return self._silence_book.expire(silence_id, now)

    def silences(self) -> list[Silence]:
        """Every silence (pending, active and expired), newest first, as stored."""
        with self._state_lock:
            return self._silence_book.stored()

    def _silences(self) -> list[Silence]:
        return self._silence_book.cached

    # -- queries ----------------------------------------------------------------------------

    def active(self) -> list[Alert]:
        """Firing alerts, newest first; silenced ones included (see ``silenced_by``)."""
        return self.alerts(status="firing", limit=1_000_000)

    def alerts(self, status: str | None = None, limit: int = 100) -> list[Alert]:
        """Alert history, newest first, optionally only ``firing`` or ``resolved``.

        Firing alerts come from memory; the history is read from the store, with the
        in-memory form (newer ``ends_at``) of the alerts still in a group.
        """
        if status not in (None, "firing", "resolved"):
            raise ValidationError("status", f"expected firing, resolved or None, got {status!r}")
        if limit < 1:
            raise ValidationError("limit", f"expected >= 1, got {limit}")
        now = self.clock.now()
        with self._state_lock:
            silences = self._silences()
            if status == "firing":
                rows = self._state.active_rows()[:limit]
            else:
                stored = self.store.alerts(status, limit)
                rows = [self._state.rows.get(row["alert_id"], row) for row in stored]
            return [alert_from_row(row, silences, now) for row in rows]

    def counts(self) -> AlertCounts:
        """Active now, created ever, auto-resolved ever, notifications sent and failed."""
        with self._state_lock:
            counters = self._state.counters
            return AlertCounts(
                active=len(self._state.firing),
                total=counters.get("total", 0),
                auto_resolved=counters.get("auto_resolved", 0),
                notifications_sent=counters.get("notifications_sent", 0),
                notifications_failed=counters.get("notifications_failed", 0),
            )


def _resolution_candidates(signal: AlertSignal) -> list[dict[str, str]]:
    """The label sets a resolving signal resolves (every severity when ``any_severity``)."""
    if not signal.any_severity:
        return [{**signal.labels, "severity": signal.severity}]
    if "severity" in signal.labels:
        return [signal.labels]
    return [{**signal.labels, "severity": severity} for severity in SEVERITIES]
