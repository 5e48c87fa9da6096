"""Alerting: the AlertManager and its notifiers, with Prometheus Alertmanager semantics.

- ``model``: :class:`Alert` (labels = identity, annotations = context, fingerprint = Alertmanager's
  label hash), :class:`PostableAlert` (the ``POST /api/v2/alerts`` entry), :class:`AlertCounts`.
- ``silences``: :class:`Matcher` (``=``, ``!=``, ``=~``, ``!~``) and :class:`Silence`.
- ``dispatch``: grouping and the notify-or-not decision (group_wait, group_interval,
  repeat_interval), pure functions.
- ``payload``: the webhook v4 body every notifier receives.
- ``notifiers``: :class:`LogNotifier`, :class:`WebhookNotifier`, :class:`RecordingNotifier`.
- ``from_events``: which bus events become alerts.
- ``manager``: :class:`AlertManager`, which ties them together over a persistent store
  (``selfheal_ml.storage.alerts.AlertStore``), helped by ``state`` (the in-memory mirror of
  the store that keeps the hot paths off DuckDB), ``group_flusher`` (due group flushes and
  their delivery) and ``silence_book`` (silences, cached).
"""

from selfheal_ml.alerting.manager import AlertManager
from selfheal_ml.alerting.model import Alert, AlertCounts, PostableAlert, fingerprint
from selfheal_ml.alerting.notifiers import LogNotifier, Notifier, RecordingNotifier, WebhookNotifier
from selfheal_ml.alerting.payload import Notification, WebhookAlert, WebhookPayload
from selfheal_ml.alerting.silences import Matcher, Silence

__all__ = [
    "Alert",
    "AlertCounts",
    "AlertManager",
    "LogNotifier",
    "Matcher",
    "Notification",
    "Notifier",
    "PostableAlert",
    "RecordingNotifier",
    "Silence",
    "WebhookAlert",
    "WebhookNotifier",
    "WebhookPayload",
    "fingerprint",
]
