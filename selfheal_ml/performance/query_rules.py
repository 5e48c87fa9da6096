"""Query rules: slow queries and N+1 loops."""

from __future__ import annotations

from collections import defaultdict

from selfheal_ml.performance.findings import Finding
from selfheal_ml.performance.statistics import Snapshot, StatementStats
from selfheal_ml.performance.thresholds import PerformanceThresholds


def slow_queries(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """Queries whose mean time in the window is at least ``slow_query_ms``."""
    findings = []
    for statement in snapshot.statements:
        if statement.mean_ms < thresholds.slow_query_ms:
            continue
        if statement.calls < thresholds.min_slow_calls:
            continue
        findings.append(
            Finding(
                kind="slow_query",
                summary=(
                    f"mean {statement.mean_ms:.0f} ms over {statement.calls} calls"
                    f" (threshold {thresholds.slow_query_ms:.0f} ms)"
                ),
                fingerprint=statement.fingerprint,
                query=statement.query,
                mean_ms=statement.mean_ms,
                calls=statement.calls,
                evidence={
                    "threshold_ms": thresholds.slow_query_ms,
                    "total_ms": round(statement.total_ms, 1),
                    "statistics_source": statement.source,
                },
                recommendation="EXPLAIN (ANALYZE, BUFFERS) the query and look at its plan:"
                " an index, less data, or moving the work out of the request",
            )
        )
    return findings


def _calls_per_request(
    statement: StatementStats, requests: int | None, traces: int | None
) -> float | None:
    """Calls per request: over the window's requests when known, else over the traces that
    ran the query (only with exact calls: sampled calls are a floor)."""
    if requests:
        return statement.calls / requests
    if traces and statement.source == "pg_stat_statements":
        return statement.calls / traces
    return None


def n_plus_one(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """One query executed many times inside one request.

    From trace comments (sqlcommenter ``traceparent``) when sampling saw them: ``n`` distinct
    executions of one fingerprint inside one trace prove ``n`` calls in one request. Otherwise,
    when the request count of the window is known, from calls per request.
    """
    most_seen: dict[str, int] = defaultdict(int)
    traces: dict[str, int] = defaultdict(int)
    for observation in snapshot.traces:
        most_seen[observation.fingerprint] = max(
            most_seen[observation.fingerprint], observation.executions
        )
        traces[observation.fingerprint] += 1
    statements = {statement.fingerprint: statement for statement in snapshot.statements}
    findings = []
    for fingerprint, statement in statements.items():
        seen = most_seen.get(fingerprint, 0)
        per_request = _calls_per_request(statement, snapshot.requests, traces.get(fingerprint))
        by_trace = seen >= thresholds.n_plus_one_seen_per_trace
        by_requests = (
            snapshot.requests is not None
            and per_request is not None
            and per_request >= thresholds.n_plus_one_per_request
        )
        if not (by_trace or by_requests):
            continue
        findings.append(
            Finding(
                kind="n_plus_one",
                summary=(
                    f"executed {seen} times inside one request (seen)"
                    if by_trace
                    else f"{per_request:.0f} calls per request"
                ),
                fingerprint=fingerprint,
                query=statement.query,
                mean_ms=statement.mean_ms,
                calls=statement.calls,
                evidence={
                    "most_executions_seen_in_one_request": seen,
                    "requests_traced": traces.get(fingerprint, 0),
                    "calls_per_request": None if per_request is None else round(per_request, 1),
                    "statistics_source": statement.source,
                },
                recommendation="load the rows in one query (WHERE key = ANY($1), a JOIN, or"
                " the ORM's eager loading) instead of one query per row",
            )
        )
    return findings
