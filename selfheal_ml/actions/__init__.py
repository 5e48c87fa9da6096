"""Repair actions: executors that touch the world, and the safety guard in front of them.

The family's API in prose. A :class:`RepairRequest` names an action on a target for an
incident. The :class:`RepairService` passes it through the one :class:`SafetyGuard` (global
switch and dry run, allow-list and risk tier, cooldown and rate limit, circuit breaker,
blast-radius cap, in that order), runs it on the :class:`Executor` its
:class:`ExecutorRoutes` name for the action *on the request's target*, and writes every
decision to the audit log. High-risk actions wait in an :class:`ApprovalBook` until a human
approves or denies them, or their timeout escalates them. A :class:`RepairJournal` keeps all
of that state in DuckDB, so :meth:`RepairService.resume` picks it up after a crash.

Executors, one small module each, all behind ``name`` + ``async execute(request)``:
:class:`WebhookExecutor` (HTTP), :class:`ShellExecutor` and :class:`ProcessRestartExecutor`
(allow-listed argv commands), :class:`PostgresExecutor`, :class:`RedisExecutor`,
:class:`SimulatorExecutor` (the simulator's ``/sim/actions``) and :class:`RecordingExecutor`
(in memory, for tests and demos).
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.actions.approvals import ApprovalBook, PendingApproval
    from selfheal_ml.actions.attempt import Attempt
    from selfheal_ml.actions.base import (
        ApprovalNotFoundError,
        ApprovalNotPendingError,
        AttemptNotFoundError,
        ExecutionResult,
        Executor,
        RepairRequest,
        Risk,
    )
    from selfheal_ml.actions.guard import (
        DEFAULT_RISK_TIERS,
        TRANSIENT_REFUSALS,
        Decision,
        GuardPolicy,
        Refusal,
        SafetyGuard,
    )
    from selfheal_ml.actions.journal import RepairJournal
    from selfheal_ml.actions.postgres import PostgresExecutor
    from selfheal_ml.actions.recording import RecordingExecutor
    from selfheal_ml.actions.redis_operations import RedisExecutor
    from selfheal_ml.actions.routes import ExecutorRoutes
    from selfheal_ml.actions.service import OutcomeRecorded, RepairService, Resumed
    from selfheal_ml.actions.shell import ProcessRestartExecutor, ShellExecutor
    from selfheal_ml.actions.simulator import InProcessSimulatorExecutor, SimulatorExecutor
    from selfheal_ml.actions.webhook import WebhookExecutor

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.actions.approvals": (
            "ApprovalBook",
            "PendingApproval",
        ),
        "selfheal_ml.actions.attempt": ("Attempt",),
        "selfheal_ml.actions.base": (
            "ApprovalNotFoundError",
            "ApprovalNotPendingError",
            "AttemptNotFoundError",
            "ExecutionResult",
            "Executor",
            "RepairRequest",
            "Risk",
        ),
        "selfheal_ml.actions.guard": (
            "DEFAULT_RISK_TIERS",
            "TRANSIENT_REFUSALS",
            "Decision",
            "GuardPolicy",
            "Refusal",
            "SafetyGuard",
        ),
        "selfheal_ml.actions.journal": ("RepairJournal",),
        "selfheal_ml.actions.postgres": ("PostgresExecutor",),
        "selfheal_ml.actions.recording": ("RecordingExecutor",),
        "selfheal_ml.actions.redis_operations": ("RedisExecutor",),
        "selfheal_ml.actions.routes": ("ExecutorRoutes",),
        "selfheal_ml.actions.service": (
            "OutcomeRecorded",
            "RepairService",
            "Resumed",
        ),
        "selfheal_ml.actions.shell": (
            "ProcessRestartExecutor",
            "ShellExecutor",
        ),
        "selfheal_ml.actions.simulator": (
            "InProcessSimulatorExecutor",
            "SimulatorExecutor",
        ),
        "selfheal_ml.actions.webhook": ("WebhookExecutor",),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "DEFAULT_RISK_TIERS",
    "TRANSIENT_REFUSALS",
    "ApprovalBook",
    "ApprovalNotFoundError",
    "ApprovalNotPendingError",
    "Attempt",
    "AttemptNotFoundError",
    "Decision",
    "ExecutionResult",
    "Executor",
    "ExecutorRoutes",
    "GuardPolicy",
    "InProcessSimulatorExecutor",
    "OutcomeRecorded",
    "PendingApproval",
    "PostgresExecutor",
    "ProcessRestartExecutor",
    "RecordingExecutor",
    "RedisExecutor",
    "Refusal",
    "RepairJournal",
    "RepairRequest",
    "RepairService",
    "Resumed",
    "Risk",
    "SafetyGuard",
    "ShellExecutor",
    "SimulatorExecutor",
    "WebhookExecutor",
]
