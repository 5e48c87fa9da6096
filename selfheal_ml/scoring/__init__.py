"""Scoring across processes: the detector bank's series shared out over worker processes.

Infrastructure around the pure :mod:`selfheal_ml.anomaly` package (which does no I/O): the
worker processes and their pipes live here. See :mod:`selfheal_ml.scoring.shards`.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.anomaly.bank import Rejected
    from selfheal_ml.scoring.shards import (
        RoundPoint,
        ScoringWorkerLostError,
        ShardedBank,
        shard_of,
    )

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.anomaly.bank": ("Rejected",),
        "selfheal_ml.scoring.shards": (
            "RoundPoint",
            "ScoringWorkerLostError",
            "ShardedBank",
            "shard_of",
        ),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = ["Rejected", "RoundPoint", "ScoringWorkerLostError", "ShardedBank", "shard_of"]
