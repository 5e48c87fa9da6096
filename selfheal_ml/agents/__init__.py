"""The seven agents, in start-up order, and their supervision.

Each agent is a thin shell (``async handle(event) -> list[Event]``) over the domain and storage
layers; see ``base.py`` for the contract and ``supervisor.py`` for restarts.
"""

from selfheal_ml.agents.base import Agent, AgentContext, AgentStatus, Thresholds
from selfheal_ml.agents.diagnostic import DiagnosticAgent
from selfheal_ml.agents.learning import LearningAgent
from selfheal_ml.agents.monitor import MonitorAgent
from selfheal_ml.agents.performance import PerformanceAgent
from selfheal_ml.agents.predictive import PredictiveAgent
from selfheal_ml.agents.repair import RepairAgent
from selfheal_ml.agents.security import SecurityAgent

# start-up order of the original design
AGENT_CLASSES: tuple[type[Agent], ...] = (
    MonitorAgent,
    SecurityAgent,
    DiagnosticAgent,
    RepairAgent,
    LearningAgent,
    PredictiveAgent,
    PerformanceAgent,
)

__all__ = ["AGENT_CLASSES", "Agent", "AgentContext", "AgentStatus", "Thresholds"]
