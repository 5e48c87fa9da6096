"""The repair vocabulary: what is asked (:class:`RepairRequest`), who does it (:class:`Executor`)
and what came back (:class:`ExecutionResult`).

An executor is the only place a repair touches the world. It is deliberately tiny, like httpx's
transports: ``name`` and ``async execute(request) -> ExecutionResult``. Expected failures
(refused connection, non-zero exit, timeout, bad parameters) come back as a result with
``ok=False`` and a ``detail`` saying why; executors do not raise for them.

Errors raised by the approval flow::

    SelfHealError
    ├── ApprovalNotFoundError     no approval request has this id
    ├── ApprovalNotPendingError   the request was already approved, denied or expired
    └── AttemptNotFoundError      no executed attempt awaits an outcome under this id

>>> request = RepairRequest("inc-1", "corr-1", "restart_service", "leadsite.ai")
>>> request.platform, request.risk
('leadsite.ai', 'low')
>>> ExecutionResult.failed("timed out after 5 s").ok
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from selfheal_ml.errors import SelfHealError

Risk = Literal["low", "high"]


@dataclass(frozen=True)
class RepairRequest:
    """One proposed repair: ``action`` (e.g. ``"restart_service"`` or ``"pg_terminate_idle"``)
    on ``target`` (a platform, a database, a cache) for ``incident_id``.

    ``platform`` is what the blast-radius cap counts (defaults to ``target``); ``risk`` is the
    caller's estimate (the guard may raise it, never lower it); ``params`` are the executor's
    arguments (a Redis key pattern, an index name, ...).
    """

    incident_id: str
    correlation_id: str
    action: str
    target: str
    platform: str = ""
    risk: Risk = "low"
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.platform:
            object.__setattr__(self, "platform", self.target)


@dataclass(frozen=True)
class ExecutionResult:
    """What an executor reports: ``ok`` (the action ran and succeeded), a human ``detail``,
    machine-readable ``data`` (rows terminated, keys deleted, ...) and the time taken."""

    ok: bool
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    @classmethod
    def failed(cls, detail: str, duration_s: float = 0.0) -> ExecutionResult:
        """A failure with no data."""
        return cls(ok=False, detail=detail, duration_s=duration_s)


class Executor(Protocol):
    """Carries out repair requests against one system (see module doc)."""

    @property
    def name(self) -> str:
        """A short label for logs, e.g. ``"postgres:main"``."""
        ...

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        """Run ``action``; expected failures come back as ``ok=False``, never raised."""
        ...


def text_param(request: RepairRequest, key: str, default: str | None = None) -> str:
    """``request.params[key]`` as a non-empty string; ``ValueError`` naming the key if not.

    >>> text_param(RepairRequest("i", "c", "a", "t", params={"pattern": "s:*"}), "pattern")
    's:*'
    """
    value = request.params.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"params.{key}: expected a non-empty string, got {value!r}")
    return value


class ApprovalNotFoundError(SelfHealError):
    """No approval request has this id."""

    def __init__(self, approval_id: str) -> None:
        self.approval_id = approval_id
        super().__init__(f"no repair awaiting approval with id {approval_id!r}")


class ApprovalNotPendingError(SelfHealError):
    """The approval request exists but was already resolved (``state`` says how)."""

    def __init__(self, approval_id: str, state: str) -> None:
        self.approval_id = approval_id
        self.state = state
        super().__init__(f"repair {approval_id!r} is not pending approval (it is {state})")


class AttemptNotFoundError(SelfHealError):
    """No executed attempt awaits an outcome under this id."""

    def __init__(self, attempt_id: str) -> None:
        self.attempt_id = attempt_id
        super().__init__(f"no executed repair awaiting an outcome with id {attempt_id!r}")
