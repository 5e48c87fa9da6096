"""Training the repair-strategy classifier: data from the simulator, runs in MLflow.

The adapter layer between the pure :mod:`selfheal_ml.repair` domain and the outside world:
:func:`generate_history` replays simulated faults into labelled incident histories;
:func:`train_and_register` fits the candidates and baselines, logs every run to MLflow
(experiment ``repair-strategy``), registers the best and moves the ``champion`` alias only when
the promotion gate allows; :class:`RepairRecommender` serves the champion with the rule
fallback; :func:`run_pipeline` / :func:`main` are the pipeline script and ``selfheal-ml train
repair``.

The request classifier (issue 13) trains here too: :func:`train_request_classifier` (experiment
and model ``request-classifier``) and :func:`load_request_scorer`, which serves its
``@champion`` or, without one, the signature baseline.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.training.datasets import Dataset
    from selfheal_ml.training.generate import generate_history, plan_incidents, simulate_incident
    from selfheal_ml.training.pipeline import PipelineOptions, PipelineResult, main, run_pipeline
    from selfheal_ml.training.recommender import RepairRecommender
    from selfheal_ml.training.request_scorer_loading import load_request_scorer
    from selfheal_ml.training.request_training import (
        RequestTrainingReport,
        train_request_classifier,
    )
    from selfheal_ml.training.train import (
        CHAMPION,
        EXPERIMENT,
        MODEL_NAME,
        CandidateResult,
        TrainingReport,
        train_and_register,
    )

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.training.datasets": ("Dataset",),
        "selfheal_ml.training.generate": (
            "generate_history",
            "plan_incidents",
            "simulate_incident",
        ),
        "selfheal_ml.training.pipeline": (
            "PipelineOptions",
            "PipelineResult",
            "main",
            "run_pipeline",
        ),
        "selfheal_ml.training.recommender": ("RepairRecommender",),
        "selfheal_ml.training.request_scorer_loading": ("load_request_scorer",),
        "selfheal_ml.training.request_training": (
            "RequestTrainingReport",
            "train_request_classifier",
        ),
        "selfheal_ml.training.train": (
            "CHAMPION",
            "EXPERIMENT",
            "MODEL_NAME",
            "CandidateResult",
            "TrainingReport",
            "train_and_register",
        ),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "CHAMPION",
    "EXPERIMENT",
    "MODEL_NAME",
    "CandidateResult",
    "Dataset",
    "PipelineOptions",
    "PipelineResult",
    "RepairRecommender",
    "RequestTrainingReport",
    "TrainingReport",
    "generate_history",
    "load_request_scorer",
    "main",
    "plan_incidents",
    "run_pipeline",
    "simulate_incident",
    "train_and_register",
    "train_request_classifier",
]
