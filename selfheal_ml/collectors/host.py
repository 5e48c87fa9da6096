"""Host collector: CPU, memory and disk of the machine, and the monitor's own footprint.

Reads psutil in a worker thread (a hung mount must not stall the event loop). CPU percent is
measured since the previous call, so the first reading after construction covers the time
since ``__init__``. The ``process_*`` series describe this service's own process, which is how
the Monitor's collection overhead (the design promises under 5 % CPU and about 100 MB) is
watched.
"""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import datetime

import psutil

from selfheal_ml.collectors.base import metric_point
from selfheal_ml.events import MetricPoint


class HostCollector:
    """Emits ``host_cpu_percent``, ``host_memory_percent``, ``host_disk_percent`` (of
    ``disk_path``), ``process_cpu_percent`` and ``process_rss_bytes``, labelled
    ``host=<hostname>`` (and ``platform`` when given).

    >>> import asyncio
    >>> from datetime import datetime, UTC
    >>> collector = HostCollector(hostname="box")
    >>> points = asyncio.run(collector.collect(datetime(2026, 1, 1, tzinfo=UTC)))
    >>> sorted(point.series for point in points)[0]
    'host_cpu_percent{host="box"}'
    """

    def __init__(
        self, disk_path: str = "/", hostname: str | None = None, platform: str | None = None
    ) -> None:
        self.disk_path = disk_path
        self.hostname = hostname or socket.gethostname()
        self.platform = platform
        self.name = f"host:{self.hostname}"
        self.last_error: str | None = None
        self._process = psutil.Process(os.getpid())
        psutil.cpu_percent(interval=None)
        self._process.cpu_percent(interval=None)

    async def collect(self, now: datetime) -> list[MetricPoint]:
        """One reading of the host and of this process."""
        labels = {"host": self.hostname}
        if self.platform:
            labels["platform"] = self.platform
        readings = await asyncio.to_thread(self._read)
        return [metric_point(name, labels, value, now) for name, value in readings.items()]

    def _read(self) -> dict[str, float]:
        with self._process.oneshot():
            process_cpu = self._process.cpu_percent(interval=None)
            process_rss = float(self._process.memory_info().rss)
        return {
            "host_cpu_percent": psutil.cpu_percent(interval=None),
            "host_memory_percent": psutil.virtual_memory().percent,
            "host_disk_percent": psutil.disk_usage(self.disk_path).percent,
            "process_cpu_percent": process_cpu,
            "process_rss_bytes": process_rss,
        }
