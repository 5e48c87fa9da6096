"""Live traffic: the simulator's access/auth log on disk, and the bans it honours.

:class:`AccessLog` writes the :class:`~selfheal_ml.sim.traffic.TrafficModel`'s events as JSON
lines (the ``jsonl`` format of docs/security.md, plus ``platform``) to a file, catching up to
the clock every ``interval_s`` in a background thread, so ``[[security.sources]]`` can tail it.

:class:`DecisionPoller` makes the simulator a CrowdSec bouncer of the service: it pulls
``/v1/decisions/stream`` with an ``X-Api-Key`` every ``interval_s`` and answers
:meth:`DecisionPoller.banned`, which the traffic model asks before each attack request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from selfheal_ml.security.bouncer_stream import parse_go_duration
from selfheal_ml.security.never_ban import parse_address
from selfheal_ml.sim.traffic import TrafficModel

log = logging.getLogger("selfheal_ml.sim")


class DecisionPoller:
    """The bans of a selfheal-ml service, pulled in stream mode (module docstring)."""

    def __init__(self, url: str, api_key: str, *, interval_s: float = 1.0) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.interval_s = interval_s
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._started = False
        self.pulls = 0
        self.failures = 0

    def banned(self, address: str) -> bool:
        """Whether ``address`` is under a ban the service announced."""
        parsed = parse_address(address)
        with self._lock:
            return parsed is not None and self._until.get(str(parsed), 0.0) > time.monotonic()

    def pull(self, client: httpx.Client) -> None:
        """One stream request (``startup=true`` first and after a failure)."""
        startup = not self._started
        self._started = False
        response = client.get(
            f"{self.url}/v1/decisions/stream",
            params={"startup": "true" if startup else "false"},
            headers={"X-Api-Key": self.api_key},
        )
        response.raise_for_status()
        body = response.json()
        now = time.monotonic()
        with self._lock:
            if startup:
                self._until.clear()
            for item in body.get("deleted") or ():
                self._until.pop(str(parse_address(str(item["value"]))), None)
            for item in body.get("new") or ():
                if item.get("type") == "ban" and parse_address(str(item["value"])) is not None:
                    left = parse_go_duration(str(item["duration"]))
                    self._until[str(parse_address(str(item["value"])))] = now + left
        self._started = True
        self.pulls += 1

    def run(self, stop: threading.Event) -> None:
        """Pull until ``stop`` is set; failures are counted and retried."""
        with httpx.Client(timeout=2.0) as client:
            while not stop.is_set():
                try:
                    self.pull(client)
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    self.failures += 1
                    log.debug("decisions not pulled: %s", exc)
                stop.wait(self.interval_s)


class AccessLog:
    """Appends the traffic model's events to ``path`` as they happen (module docstring)."""

    def __init__(
        self,
        path: str | Path,
        model: TrafficModel,
        now: Callable[[], datetime],
        *,
        banned: Callable[[str], bool] = lambda address: False,
        interval_s: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.model = model
        self.now = now
        self.banned = banned
        self.interval_s = interval_s
        self.lock = threading.Lock()  # held while the model changes (attacks start, lines)
        self.written = 0
        self._last = now()

    def catch_up(self) -> int:
        """Write the events since the last call; how many."""
        with self.lock:
            moment = self.now()
            events = self.model.events(self._last, moment, self.banned)
            self._last = moment
        if events:
            text = "".join(json.dumps(event, separators=(",", ":")) + "\n" for event in events)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(text)
            self.written += len(events)
        return len(events)

    def run(self, stop: threading.Event) -> None:
        """Catch up every ``interval_s`` until ``stop`` is set."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        while not stop.is_set():
            self.catch_up()
            stop.wait(self.interval_s)


def start_threads(*workers: Callable[[threading.Event], None]) -> threading.Event:
    """Run each worker in a daemon thread; set the returned event to stop them."""
    stop = threading.Event()
    for worker in workers:
        threading.Thread(target=worker, args=(stop,), daemon=True).start()
    return stop
