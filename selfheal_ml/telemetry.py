"""The service's own Prometheus metrics, read from a runtime at scrape time.

One registry per runtime (never prometheus_client's global one), so several runtimes in one
process (as in the tests) do not collide. Values are read live from the bus, agents and
AlertManager when ``/metrics`` is scraped, so they cannot drift from the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class RuntimeCollector:
    """A prometheus_client collector over a ``Runtime`` (typed loosely to keep layers apart)."""

    def __init__(self, runtime_source: Callable[[], Any]) -> None:
        self._runtime_source = runtime_source

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime_source()
        if runtime is None:
            return
        yield from self._bus_metrics(runtime)
        yield from self._agent_metrics(runtime)
        yield from self._delivery_metrics(runtime)
        counts = runtime.alerts.counts()
        active = GaugeMetricFamily("selfheal_alerts_active", "Alerts currently firing")
        active.add_metric([], counts.active)
        yield active
        total = CounterMetricFamily("selfheal_alerts", "Alerts ever created")
        total.add_metric([], counts.total)
        yield total
        failed_writes = CounterMetricFamily(
            "selfheal_store_failed_writes", "Store transactions DuckDB refused"
        )
        failed_writes.add_metric([], runtime.database.failed_writes)
        yield failed_writes

    def _bus_metrics(self, runtime: Any) -> Iterator[Metric]:
        stats = runtime.bus.stats()
        published = CounterMetricFamily("selfheal_bus_published", "Events published on the bus")
        published.add_metric([], stats.published)
        yield published
        for kind in ("delivered", "dropped", "failed"):
            family = CounterMetricFamily(
                f"selfheal_bus_{kind}",
                f"Events {kind} per subscriber and event type",
                labels=["subscriber", "event_type"],
            )
            # one subscriber name subscribes once per event type: sum per (name, selector),
            # so each series appears once (a repeated series is silently collapsed upstream)
            totals: dict[tuple[str, str], int] = {}
            for subscriber in stats.subscribers:
                key = (subscriber.name, subscriber.selector)
                totals[key] = totals.get(key, 0) + getattr(subscriber, kind)
            for (name, selector), total in sorted(totals.items()):
                family.add_metric([name, selector], total)
            yield family

    def _agent_metrics(self, runtime: Any) -> Iterator[Metric]:
        running = GaugeMetricFamily(
            "selfheal_agent_running", "1 if the agent runs", labels=["agent"]
        )
        handled = CounterMetricFamily("selfheal_agent_handled", "Events handled", labels=["agent"])
        errors = CounterMetricFamily("selfheal_agent_errors", "Handler failures", labels=["agent"])
        for name, status in runtime.agent_statuses().items():
            running.add_metric([name], 1.0 if status.running else 0.0)
            handled.add_metric([name], status.handled)
            errors.add_metric([name], status.errors)
        yield running
        yield handled
        yield errors

    def _delivery_metrics(self, runtime: Any) -> Iterator[Metric]:
        """Outcomes of the configured notifiers (``[[notifiers]]``)."""
        counts = runtime.deliveries.snapshot()
        outcomes = CounterMetricFamily(
            "selfheal_notifications",
            "Notification deliveries per notifier by outcome (failed = retries exhausted)",
            labels=["notifier", "outcome"],
        )
        retries = CounterMetricFamily(
            "selfheal_notification_retries", "Delivery retries per notifier", labels=["notifier"]
        )
        for name in sorted(counts):
            count = counts[name]
            for outcome in ("delivered", "failed", "dropped"):
                outcomes.add_metric([name, outcome], getattr(count, outcome))
            retries.add_metric([name], count.retries)
        yield outcomes
        yield retries


def build_registry(runtime_source: Callable[[], Any]) -> CollectorRegistry:
    """A fresh registry exporting the runtime's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime_source))
    return registry
