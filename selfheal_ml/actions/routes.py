"""Which executor runs a repair: chosen by the request's action *and* its target.

With two PostgreSQL (or two Redis) targets configured, each has its own executor; a request
runs on the executor of the target its incident names, never on whichever was configured
last. :meth:`ExecutorRoutes.resolve` looks the target up by name, then by platform (a
database target configured with ``platform = "shop"`` answers a request addressed to
``shop`` when it is the only one of its kind there). When the action has per-target
executors and none matches, the answer is ``None`` and :meth:`ExecutorRoutes.missing` says
why: the repair service refuses the request and escalates it to a person.

Executors that address any target themselves (the simulator, which acts on the request's
platform; the process restarter, which looks up the target's command) are added without a
target and serve every request of their actions.

>>> from selfheal_ml.actions.recording import RecordingExecutor
>>> routes = ExecutorRoutes()
>>> routes.add("pg_reindex", RecordingExecutor("postgres:a"), target="a")
>>> routes.add("pg_reindex", RecordingExecutor("postgres:b"), target="b", platform="shop")
>>> def on(target: str) -> RepairRequest:
...     return RepairRequest("i", "c", "pg_reindex", target)
>>> routes.resolve(on("b")).name, routes.resolve(on("shop")).name, routes.resolve(on("c"))
('postgres:b', 'postgres:b', None)
>>> routes.missing(on("c"))
'no executor for pg_reindex on target c (configured for: a, b)'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from selfheal_ml.actions.base import Executor, RepairRequest


class ExecutorRoutes:
    """Executors by action, each for one target or for any (see module doc)."""

    def __init__(self) -> None:
        self._any: dict[str, Executor] = {}
        self._by_target: dict[str, dict[str, Executor]] = {}
        self._by_platform: dict[str, dict[str, list[Executor]]] = {}

    @classmethod
    def for_any_target(cls, executors: Mapping[str, Executor]) -> ExecutorRoutes:
        """Routes where each action's executor serves every target (tests, the simulator)."""
        routes = cls()
        for action, executor in executors.items():
            routes.add(action, executor)
        return routes

    def add(
        self, action: str, executor: Executor, *, target: str | None = None, platform: str = ""
    ) -> None:
        """Route ``action`` on ``target`` (every target when ``None``) to ``executor``;
        ``platform`` lets requests addressed to the target's platform find it too."""
        if target is None:
            self._any[action] = executor
            return
        self._by_target.setdefault(action, {})[target] = executor
        if platform:
            self._by_platform.setdefault(action, {}).setdefault(platform, []).append(executor)

    def resolve(self, request: RepairRequest) -> Executor | None:
        """The executor for ``request``'s action on its target, or ``None``."""
        targets = self._by_target.get(request.action)
        if targets:
            found = targets.get(request.target)
            if found is not None:
                return found
            on_platform = self._by_platform.get(request.action, {}).get(request.target, [])
            if len(on_platform) == 1:
                return on_platform[0]
        return self._any.get(request.action)

    def missing(self, request: RepairRequest) -> str:
        """Why :meth:`resolve` found nothing for ``request``, in a line a person reads."""
        targets = self._by_target.get(request.action)
        if not targets:
            return f"no executor configured for action {request.action}"
        on_platform = self._by_platform.get(request.action, {}).get(request.target, [])
        if len(on_platform) > 1:
            return (
                f"no executor for {request.action} on target {request.target}: the platform"
                f" has {len(on_platform)} such targets; name one"
            )
        known = ", ".join(sorted(targets))
        return (
            f"no executor for {request.action} on target {request.target} (configured for: {known})"
        )

    def __contains__(self, action: object) -> bool:
        return action in self._any or bool(self._by_target.get(str(action)))

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self._any) | {a for a, t in self._by_target.items() if t}))

    def __len__(self) -> int:
        return len(list(iter(self)))
