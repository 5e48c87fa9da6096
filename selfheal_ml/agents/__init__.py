"""The seven agents, in start-up order, and their supervision.

Each agent is a thin shell (``async handle(event) -> list[Event]``) over the domain and storage
layers; see ``base.py`` for the contract and ``supervisor.py`` for restarts. An agent's module
is imported when a process runs that agent (:func:`agent_class`): the Predictive agent brings
river and statsmodels, the Learning agent MLflow and scikit-learn, and a process that runs
neither (``serve --agents none``) should not pay for them.
"""

from collections.abc import Callable

from selfheal_ml.agents.base import Agent, AgentContext, AgentStatus, Thresholds


def _monitor() -> type[Agent]:
    from selfheal_ml.agents.monitor import MonitorAgent

    return MonitorAgent


def _security() -> type[Agent]:
    from selfheal_ml.agents.security import SecurityAgent

    return SecurityAgent


def _diagnostic() -> type[Agent]:
    from selfheal_ml.agents.diagnostic import DiagnosticAgent

    return DiagnosticAgent


def _repair() -> type[Agent]:
    from selfheal_ml.agents.repair import RepairAgent

    return RepairAgent


def _learning() -> type[Agent]:
    from selfheal_ml.agents.learning import LearningAgent

    return LearningAgent


def _predictive() -> type[Agent]:
    from selfheal_ml.agents.predictive import PredictiveAgent

    return PredictiveAgent


def _performance() -> type[Agent]:
    from selfheal_ml.agents.performance import PerformanceAgent

    return PerformanceAgent


# start-up order of the original design
AGENT_LOADERS: dict[str, Callable[[], type[Agent]]] = {
    "Monitor": _monitor,
    "Security": _security,
    "Diagnostic": _diagnostic,
    "Repair": _repair,
    "Learning": _learning,
    "Predictive": _predictive,
    "Performance": _performance,
}


def agent_class(name: str) -> type[Agent]:
    """The class of the agent called ``name`` (one of ``config.AGENT_NAMES``), its module
    imported now."""
    return AGENT_LOADERS[name]()


__all__ = ["AGENT_LOADERS", "Agent", "AgentContext", "AgentStatus", "Thresholds", "agent_class"]
