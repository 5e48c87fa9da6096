"""The thresholds of the Performance rules, in one place, with the seed's defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PerformanceThresholds:
    """When a statistic becomes a finding.

    ``slow_query_ms``: the seed's 100 ms mean. ``min_table_rows``: below this a sequential scan
    is cheap and no index is proposed. ``max_selectivity``: the planner's estimated fraction of
    rows a filter keeps, above which an index would not be used anyway. ``min_cost_saving``:
    the what-if (HypoPG) plan must cost at most ``1 - min_cost_saving`` of today's plan (Dexter
    asks for 50 %). ``n_plus_one_per_request``: executions of one query inside one request.
    Redis: ``min_evicted_keys`` evicted in a window is a full cache; ``fragmentation_ratio``
    (RSS over used memory) counts only above ``min_fragmented_bytes`` used (small instances
    show meaningless ratios). Endpoints: a median p95 of ``endpoint_p95_ms`` over the window
    is slow; an endpoint serving ``hot_endpoint_share`` of its platform's requests with a p95
    of ``hot_endpoint_p95_ms`` is where caching or tuning pays most; endpoints under
    ``min_endpoint_requests_per_s`` are not judged.
    """

    slow_query_ms: float = 100.0
    min_slow_calls: int = 1
    min_table_rows: float = 10_000.0
    min_sequential_scans: int = 1
    max_selectivity: float = 0.05
    min_cost_saving: float = 0.5
    n_plus_one_per_request: float = 20.0
    n_plus_one_seen_per_trace: int = 3
    buffer_hit_ratio: float = 0.90
    min_buffer_accesses: int = 10_000
    redis_hit_ratio: float = 0.80
    min_redis_lookups: int = 1_000
    connections_used_ratio: float = 0.80
    long_transaction_s: float = 300.0
    lock_wait_s: float = 5.0
    min_evicted_keys: int = 100
    fragmentation_ratio: float = 1.5
    min_fragmented_bytes: int = 100 * 1024 * 1024
    endpoint_p95_ms: float = 500.0
    hot_endpoint_share: float = 0.3
    hot_endpoint_p95_ms: float = 200.0
    min_endpoint_requests_per_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_selectivity", "min_cost_saving", "buffer_hit_ratio", "redis_hit_ratio"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a fraction in [0, 1], got {value!r}")
        if self.slow_query_ms <= 0:
            raise ValueError(f"slow_query_ms: expected > 0, got {self.slow_query_ms!r}")
