"""Scoring across processes: the detector bank's series shared out over worker processes.

Infrastructure around the pure :mod:`selfheal_ml.anomaly` package (which does no I/O): the
worker processes and their pipes live here. See :mod:`selfheal_ml.scoring.shards`.
"""

from selfheal_ml.scoring.shards import (
    Rejected,
    RoundPoint,
    ScoringWorkerLostError,
    ShardedBank,
    shard_of,
)

__all__ = ["Rejected", "RoundPoint", "ScoringWorkerLostError", "ShardedBank", "shard_of"]
