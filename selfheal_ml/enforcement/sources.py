"""Where the middleware reads decisions from.

- :class:`StreamDecisionSource`: our ``/v1/decisions/stream`` over HTTP with a bouncer key,
  ``startup=true`` on the first pull and after an error, then only the changes (CrowdSec's
  stream mode: one request per refresh whatever the traffic).
- :class:`StoreDecisionSource`: the security store, in a worker thread (for an app running
  in the same process as the service).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import httpx

from selfheal_ml.enforcement.cache import DecisionUpdate
from selfheal_ml.security.ban_policy import BanDecision
from selfheal_ml.security.bouncer_stream import parse_go_duration


class DecisionSource(Protocol):
    """Gives the changes since its previous answer (or everything, ``full=True``)."""

    async def pull(self) -> DecisionUpdate: ...


def _seconds_left(decisions: Any) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in decisions or ():  # the LAPI may send null for an empty list
        if item.get("type") == "ban" and str(item.get("scope", "")).lower() == "ip":
            found[str(item["value"])] = parse_go_duration(str(item["duration"]))
    return found


class StreamDecisionSource:
    """Pulls ``{url}/v1/decisions/stream`` with ``X-Api-Key`` (module docstring)."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout_s: float = 2.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout_s)
        self._headers = {"X-Api-Key": api_key}
        self._started = False

    async def pull(self) -> DecisionUpdate:
        """One stream request; raises ``httpx.HTTPError`` when it fails (the next pull then
        starts over with ``startup=true``)."""
        startup = not self._started
        self._started = False
        response = await self._client.get(
            f"{self.url}/v1/decisions/stream",
            params={"startup": "true" if startup else "false"},
            headers=self._headers,
        )
        response.raise_for_status()
        body = response.json()
        update = DecisionUpdate(
            new=_seconds_left(body.get("new")),
            deleted=frozenset(_seconds_left(body.get("deleted"))),
            full=startup,
        )
        self._started = True
        return update

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


class StoreDecisionSource:
    """Reads the bans in force from a security store (``active_decisions(now)``) in a thread."""

    def __init__(self, store: Any, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now

    async def pull(self) -> DecisionUpdate:
        """Everything in force now (``full=True``)."""
        moment = self.now()
        decisions: list[BanDecision] = await asyncio.to_thread(self.store.active_decisions, moment)
        return DecisionUpdate(
            new={d.value: (d.until - moment).total_seconds() for d in decisions if d.enforced},
            full=True,
        )
