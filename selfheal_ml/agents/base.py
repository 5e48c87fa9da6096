"""The agent contract: a thin shell that turns one event into zero or more events.

An agent never sleeps and never loops: periodic work arrives as ``Tick`` events. It gets
ready-made ports through :class:`AgentContext` (never ``Settings``), does its math and SQL
through the domain and storage layers, and returns the events it wants published.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from selfheal_ml.bus.base import EventBus, Selector

__all__ = ["Agent", "AgentContext", "AgentStatus", "Selector", "Thresholds"]
from selfheal_ml.clock import Clock
from selfheal_ml.events import Event
from selfheal_ml.metric_catalogue import DEFAULT_LIMITS


@dataclass(frozen=True)
class Thresholds:
    """The seed's alert thresholds, as plain values (mapped from Settings by the runtime;
    the defaults are the metric catalogue's one table)."""

    error_rate: float = DEFAULT_LIMITS.error_rate
    response_time_ms: float = DEFAULT_LIMITS.response_time_ms
    cpu_percent: float = DEFAULT_LIMITS.cpu_percent
    memory_percent: float = DEFAULT_LIMITS.memory_percent
    disk_percent: float = DEFAULT_LIMITS.disk_percent


@dataclass
class AgentContext:
    """The ports an agent may use. Optional ports are ``None`` when not configured."""

    bus: EventBus
    clock: Clock
    thresholds: Thresholds = Thresholds()
    metrics: Any = None  # storage.metrics.MetricsStore
    alerts: Any = None  # alerting.AlertManager
    database: Any = None  # storage.Database
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class AgentStatus:
    """What an agent reports about itself for the dashboard and ``/ready``."""

    name: str
    enabled: bool
    running: bool = False
    failed: bool = False
    handled: int = 0
    errors: int = 0
    restarts: int = 0
    last_event_at: datetime | None = None
    last_error: str | None = None


class Agent(ABC):
    """Base class of the seven agents."""

    name: ClassVar[str]
    subscriptions: ClassVar[tuple[Selector, ...]] = ()

    def __init__(self, context: AgentContext) -> None:
        self.context = context
        self.log = logging.getLogger(f"selfheal_ml.agents.{self.name.lower()}")

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources; called once before the first event and after each restart."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Release resources; called on shutdown and before a restart."""

    @abstractmethod
    async def handle(self, event: Event) -> list[Event]:
        """React to one event; return the events to publish."""
