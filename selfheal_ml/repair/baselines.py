"""Baselines the learned classifier must beat: a majority class and hand-written rules.

:class:`RuleBaseline` is also the documented fallback when the model is unsure or absent. Its
rules, checked in order (a symptom counts when its strength is at least ``5``)::

    database connection lost (db_up_down)           -> reset_db_connections
    connections piling up (db_connections_up)       -> reset_db_connections
    cache hit ratio collapsed (cache_hit_ratio_down)-> clear_cache
    slow queries (db_slow_queries_up)               -> add_index
    login failures (auth_failures_up)               -> block_ip
    disk filling (disk_up)                          -> clear_temp_files
    background job stuck (job_age_up, job_queue_up) -> restart_background_job
    recent config change and 5xx errors             -> rollback_config
    5xx errors                                      -> restart_service
    request rate up                                 -> scale_out
    memory up                                       -> restart_service

Every matching rule adds its strategy to a ranking (first match first); unmatched strategies
follow in :data:`STRATEGIES` order. Both baselines follow the scikit-learn classifier API
(``fit``, ``predict``, ``predict_proba``, ``classes_``) over a feature DataFrame.

>>> import pandas as pd
>>> rules = RuleBaseline().fit(None, ["restart_service", "clear_cache"])
>>> rules.predict(pd.DataFrame([{"cache_hit_ratio_down": 9.0}])).tolist()
['clear_cache']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the features arrive as a frame; this module never builds one
    import pandas as pd

STRATEGIES: tuple[str, ...] = (
    "restart_service",
    "rollback_config",
    "reset_db_connections",
    "restore_from_backup",
    "add_index",
    "reindex",
    "clear_cache",
    "restart_background_job",
    "clear_temp_files",
    "scale_out",
    "block_ip",
)
RULE_THRESHOLD = 5.0
_RULE_WEIGHTS = (0.6, 0.25, 0.1)


def _strong(features: Mapping[str, float], *names: str) -> bool:
    return any(float(features.get(name, 0.0)) >= RULE_THRESHOLD for name in names)


def rule_ranking(features: Mapping[str, float]) -> list[str]:
    """Every strategy, the rule matches first (see the module docstring)."""
    errors = _strong(features, "errors_5xx_up")
    checks = (
        (_strong(features, "db_up_down"), "reset_db_connections"),
        (_strong(features, "db_connections_up"), "reset_db_connections"),
        (_strong(features, "cache_hit_ratio_down"), "clear_cache"),
        (_strong(features, "db_slow_queries_up"), "add_index"),
        (_strong(features, "auth_failures_up"), "block_ip"),
        (_strong(features, "disk_up"), "clear_temp_files"),
        (_strong(features, "job_age_up", "job_queue_up"), "restart_background_job"),
        (errors and float(features.get("config_change_recent", 0.0)) > 0, "rollback_config"),
        (errors, "restart_service"),
        (_strong(features, "requests_up"), "scale_out"),
        (_strong(features, "memory_up"), "restart_service"),
    )
    ranking: list[str] = []
    for matched, strategy in checks:
        if matched and strategy not in ranking:
            ranking.append(strategy)
    return ranking + [strategy for strategy in STRATEGIES if strategy not in ranking]


def ranking_probabilities(ranking: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Rank-based pseudo-probabilities over ``classes`` (sum to 1).

    >>> ranking_probabilities(["b", "a"], ["a", "b"]).round(3).tolist()
    [0.294, 0.706]
    """
    weights = np.full(len(classes), 1e-3)
    index = {name: position for position, name in enumerate(classes)}
    known = [name for name in ranking if name in index]
    for weight, name in zip(_RULE_WEIGHTS, known, strict=False):
        weights[index[name]] = weight
    total: np.ndarray = weights / weights.sum()
    return total


class RuleBaseline:
    """The hand-written rules as a classifier (``fit`` only records the classes)."""

    def fit(self, features: Any, labels: Sequence[str]) -> RuleBaseline:
        self.classes_ = np.array(sorted(set(labels) | set(STRATEGIES)))
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        columns = [str(column) for column in features.columns]
        classes = list(self.classes_)
        return np.array(
            [
                ranking_probabilities(rule_ranking(dict(zip(columns, row, strict=True))), classes)
                for row in features.itertuples(index=False, name=None)
            ]
        ).reshape(len(features), len(classes))

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(features).argmax(axis=1)])


class MajorityBaseline:
    """Always the most frequent training label; probabilities are the training frequencies.

    >>> import pandas as pd
    >>> MajorityBaseline().fit(None, ["a", "b", "b"]).predict(pd.DataFrame([{}])).tolist()
    ['b']
    """

    def fit(self, features: Any, labels: Sequence[str]) -> MajorityBaseline:
        counts = Counter(labels)
        self.classes_ = np.array(sorted(counts))
        frequencies = np.array([counts[name] for name in self.classes_], dtype=float)
        self.priors_ = frequencies / frequencies.sum()
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return np.tile(self.priors_, (len(features), 1))

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(features).argmax(axis=1)])
