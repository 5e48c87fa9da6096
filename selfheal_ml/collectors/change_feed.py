"""The watched platforms' configuration changes, polled from an HTTP change feed.

A bad configuration push and a crash look the same from outside (server errors on one
platform); what separates them is a deploy or configuration change just before the errors
(``config_change_recent`` in :mod:`selfheal_ml.diagnosis.hypotheses`). The demo hands the
Diagnostic agent its simulator's change log directly; ``serve`` had none, so live every bad
push was named a crash and restarted, which did not end it (the whole-catalogue live soak,
2026-12-06). :class:`ChangeFeed` reads a feed in the simulator's format (``GET
/sim/config-changes``: ``{"changes": [{"change_id", "ts", "platform", "description",
"rollback"}]}``, the shape a deploy pipeline can serve too; ``rollback``, optional, marks a
return to the previous configuration, which ends the suspicion of the changes before it) once
per Diagnostic round (a client per poll, closed at once, a 2 s timeout), and keeps the last
day of changes for :meth:`ChangeFeed.changes`, which the diagnosis reads synchronously. A feed
that fails keeps what it had: the diagnosis then lacks changes, as before, and the failure is
logged once until the feed answers again.

>>> import asyncio, httpx
>>> body = {"changes": [{"change_id": "c1", "ts": "2026-12-06T20:21:54+00:00",
...                      "platform": "a", "description": "push v101"}, {"bad": 1}]}
>>> feed = ChangeFeed("http://sim.test/sim/config-changes",
...                   transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)))
>>> asyncio.run(feed.refresh())
>>> [(change.change_id, change.platform) for change in feed.changes()]
[('c1', 'a')]
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import httpx

from selfheal_ml.changes import ConfigChange
from selfheal_ml.collectors.http_client import shared_ssl_context

logger = logging.getLogger(__name__)

#: Changes older than this (behind the newest one) are dropped: the diagnosis looks 30 minutes back.
KEEP = timedelta(days=1)


def parse_changes(payload: Any) -> list[ConfigChange]:
    """The well-formed changes of a feed's JSON body, oldest first (malformed ones skipped:
    one bad entry must not hide the others).

    >>> parse_changes({"changes": [{"change_id": "c", "ts": "2026-01-05T00:00:00Z",
    ...                              "platform": "a", "description": ""}]})[0].ts.tzname()
    'UTC'
    >>> parse_changes({"changes": [{"ts": "yesterday"}]}), parse_changes([])
    ([], [])
    """
    entries = payload.get("changes") if isinstance(payload, dict) else None
    found: list[ConfigChange] = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            ts = datetime.fromisoformat(str(entry["ts"]))
            if ts.tzinfo is None:
                continue
            found.append(
                ConfigChange(
                    str(entry["change_id"]), ts, str(entry["platform"]),
                    str(entry.get("description", "")), entry.get("rollback") is True,
                )
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(found, key=lambda change: change.ts)


class ChangeFeed:
    """Polls a change feed; :meth:`changes` is the last good answer (see the module docstring)."""

    def __init__(
        self,
        url: str,
        timeout_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url, self.timeout_s, self.transport = url, timeout_s, transport
        self._changes: list[ConfigChange] = []
        self._failing = False

    def changes(self) -> list[ConfigChange]:
        """The changes of the last successful poll (no I/O: safe on the event loop)."""
        return self._changes

    async def refresh(self) -> None:
        """Poll the feed once; keep the last day of what it lists."""
        try:
            # a client per poll, closed at once: the feed holds no connection a shutdown
            # would have to close (the shared SSL context keeps building one cheap)
            async with httpx.AsyncClient(
                transport=self.transport, timeout=self.timeout_s, verify=shared_ssl_context()
            ) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                changes = parse_changes(response.json())
        except (httpx.HTTPError, ValueError) as error:
            if not self._failing:
                logger.warning("change feed %s: %s (keeping %d changes)", self.url, error,
                               len(self._changes))  # fmt: skip
            self._failing = True
            return
        if self._failing:
            logger.info("change feed %s answers again", self.url)
        self._failing = False
        newest = changes[-1].ts if changes else None
        self._changes = [c for c in changes if newest is None or c.ts >= newest - KEEP]
