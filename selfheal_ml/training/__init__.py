"""Training the repair-strategy classifier: data from the simulator, runs in MLflow.

The adapter layer between the pure :mod:`selfheal_ml.repair` domain and the outside world:
:func:`generate_history` replays simulated faults into labelled incident histories;
:func:`train_and_register` fits the candidates and baselines, logs every run to MLflow
(experiment ``repair-strategy``), registers the best and moves the ``champion`` alias only when
the promotion gate allows; :class:`RepairRecommender` serves the champion with the rule
fallback; :func:`run_pipeline` / :func:`main` are the pipeline script and ``selfheal-ml train
repair``.
"""

from selfheal_ml.training.datasets import Dataset
from selfheal_ml.training.generate import generate_history, plan_incidents, simulate_incident
from selfheal_ml.training.pipeline import PipelineOptions, PipelineResult, main, run_pipeline
from selfheal_ml.training.recommender import RepairRecommender
from selfheal_ml.training.train import (
    CHAMPION,
    EXPERIMENT,
    MODEL_NAME,
    CandidateResult,
    TrainingReport,
    train_and_register,
)

__all__ = [
    "CHAMPION",
    "EXPERIMENT",
    "MODEL_NAME",
    "CandidateResult",
    "Dataset",
    "PipelineOptions",
    "PipelineResult",
    "RepairRecommender",
    "TrainingReport",
    "generate_history",
    "main",
    "plan_incidents",
    "run_pipeline",
    "simulate_incident",
    "train_and_register",
]
