"""Platform simulator with fault injection and ground truth.

The five platforms of the original design (``leadsite.ai``, ``leadsite.io``,
``clientcontact.io``, ``videosite.io``, ``tackle.io``; three endpoints each, one host each)
share one PostgreSQL and one Redis. Traffic has daily and weekly seasonality, noise, slow
growth and benign marketing-campaign spikes. Faults from :data:`CATALOGUE` can be injected;
repair actions end the faults they fix and cost something whether or not they fix anything.
The same model serves virtual time (tests, benchmarks, training data, the demo) and the live
HTTP mode in :mod:`selfheal_ml.sim.server` (with :mod:`selfheal_ml.sim.access_log`, the only
modules here that do I/O). :mod:`selfheal_ml.sim.traffic` adds request and login traffic with
attacks and ground truth, written as an access log in live mode (docs/security.md).

Public API::

    sim = PlatformSimulator(seed, start, platforms=DEFAULT_PLATFORMS)
    sim.advance(seconds); sim.now(); sim.observe() -> list[MetricPoint]
    sim.values() -> np.ndarray                      # the same snapshot, catalogue.keys order
    sim.advance_recording(seconds) -> (step ends (T,), values (T, series))   # bulk, fast
    sim.inject(kind, platform, severity=1.0, duration_s=None) -> fault id
    sim.apply_action(platform, action) -> ActionResult
    sim.faults(active_only=False) -> list[FaultRecord]; sim.config_changes(); sim.campaigns()
    sim.health(platform) -> "healthy" | "degraded" | "down"
    sim.prometheus_text(platform=None) -> str        # one platform's page, or everything
    sim.dependency_text("postgres" | "redis") -> str  # a shared dependency's own page
    FaultSchedule.random(seed, days, n_faults, kinds=...) -> .faults: tuple[ScheduledFault]
    run_schedule(sim, schedule, duration_s) -> SimulationRun (values, long_frame())

Time integrates in 30 s steps; stretches during which no fault or repair side effect starts or
ends are computed as one numpy batch (noise, campaigns, counters included), so one long
``advance`` gives the same series values as many short ones (the Prometheus counters may differ
in the last digits: their running sums round differently when the time is cut differently),
and a simulated week of five platforms takes well under a second in bulk (see
docs/benchmarks.md).

Series catalogue (``MetricPoint.series`` is ``series_key(name, labels)``):

=====================================  ===========================================  ==========
name                                   labels                                       unit
=====================================  ===========================================  ==========
http_requests_per_s                    platform, endpoint                           req/s
http_latency_p50_ms / _p95_ms / _p99_ms platform, endpoint                          ms
http_error_ratio                       platform, endpoint, status_class (4xx, 5xx)  0..1
http_5xx_per_s                         platform, endpoint                           req/s
auth_attempts_per_s                    platform                                     1/s
auth_failures_per_s                    platform                                     1/s
background_job_queue_depth             platform                                     jobs
background_job_last_success_age_s      platform                                     s
host_cpu_percent                       platform, host                               %
host_memory_percent                    platform, host                               %
host_disk_percent                      platform, host                               %
business_events_per_min                platform, event                              1/min
db_up                                  dependency=postgres                          0/1
db_query_duration_ms                   dependency=postgres                          ms
db_connections_in_use                  dependency=postgres                          conns
db_connections_max                     dependency=postgres                          conns
db_slow_queries_per_s                  dependency=postgres                          1/s
cache_hit_ratio                        dependency=redis                             0..1
redis_memory_used_bytes                dependency=redis                             bytes
=====================================  ===========================================  ==========

Business events: leadsite.ai campaigns_created, leads_generated, emails_sent; leadsite.io
websites_built, publishes; clientcontact.io messages_sent, conversations; videosite.io
page_views; tackle.io companies_created, contacts_created, deals_created. Normal operation has
no 5xx at all (client 4xx ~2 %, login failures ~8 %), p95 well under 2 s, CPU under 80 %.

Prometheus exposition (``prometheus_text``): counters ``http_requests_total{platform,endpoint,
status_class}``, ``auth_attempts_total``, ``auth_failures_total``, ``business_events_total``; the
histogram ``http_request_duration_seconds``; gauges for host and job metrics. The dependency
gauges (``db_*``, ``cache_hit_ratio``, ``redis_memory_used_bytes``) are on the dependency's
own page (``dependency_text``), once, as its exporter would serve them, not on every
platform's. A ``restart_service`` resets the platform's counters.

Fault catalogue (scope; fixing actions; confusable with): service_crash (platform;
restart_service; bad_config_push), memory_leak (platform; restart_service; traffic_surge),
db_pool_exhaustion (database, all platforms; reset_db_connections; db_unreachable),
db_unreachable (database; reset_db_connections; db_pool_exhaustion), slow_query (database, worst
on its origin platform; add_index or reindex; stuck_cache), stuck_cache (cache; clear_cache;
slow_query), stuck_background_job (platform; restart_background_job), bad_config_push
(platform, logs a config change; rollback_config; service_crash), disk_filling (platform;
clear_temp_files), traffic_surge (platform; scale_out; memory_leak), brute_force_login
(platform; block_ip). Each :class:`FaultSpec` lists its symptoms. A fault with ``duration_s``
ends by itself ("expired") and its effects stop with it; schedules make some faults recur.
"""

from selfheal_ml.changes import ConfigChange
from selfheal_ml.sim.catalogue import (
    CATALOGUE,
    ActionResult,
    Campaign,
    FaultKind,
    FaultRecord,
    FaultSpec,
    RepairAction,
    Symptom,
)
from selfheal_ml.sim.platforms import DEFAULT_PLATFORMS, EndpointSpec, PlatformSpec
from selfheal_ml.sim.schedule import FaultSchedule, ScheduledFault, SimulationRun, run_schedule
from selfheal_ml.sim.simulator import PlatformSimulator

__all__ = [
    "CATALOGUE",
    "DEFAULT_PLATFORMS",
    "ActionResult",
    "Campaign",
    "ConfigChange",
    "EndpointSpec",
    "FaultKind",
    "FaultRecord",
    "FaultSchedule",
    "FaultSpec",
    "PlatformSimulator",
    "PlatformSpec",
    "RepairAction",
    "ScheduledFault",
    "SimulationRun",
    "Symptom",
    "run_schedule",
]
