"""Recall, precision and overhead of the PostgreSQL analysis on planted workloads.

For each seed, :func:`measure_workload` creates a fresh ``perf_`` database, plants the seed's
problems (:mod:`.postgres_problems`), runs its traffic, lets a
:class:`~selfheal_ml.collectors.postgres_analysis.PostgresAnalyser` watch it, and compares the
reported ``(kind, table)`` pairs with the planted ones. While the analysis runs, a second
session polls ``pg_locks`` for the analyser's locks, so the "never stronger than ACCESS
SHARE" promise is measured, not assumed. Then one agent-style round (one reading, no
sampling) is timed in queries, for the per-minute budget.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from selfheal_ml.collectors.postgres_analysis import APPLICATION_NAME, PostgresAnalyser
from selfheal_ml.live.postgres_problems import (
    KINDS,
    PlantPlan,
    create_database,
    expected_findings,
    plant,
    run_workload,
)

LOCKS_QUERY = """
SELECT DISTINCT l.mode FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE a.application_name = %s AND l.locktype = 'relation'
"""


@dataclass(frozen=True)
class WorkloadScore:
    """One planted workload's outcome."""

    seed: int
    kinds: tuple[str, ...]
    expected: tuple[tuple[str, str | None], ...]
    found: tuple[tuple[str, str | None], ...]
    statements_source: str
    hypopg: bool
    watch_queries: int
    samples: int
    round_queries: int
    lock_modes: tuple[str, ...] = field(default=())

    @property
    def true_positives(self) -> int:
        """Planted problems reported."""
        return len(set(self.expected) & set(self.found))

    def as_record(self) -> dict[str, Any]:
        """JSON-ready, with the counts."""
        return {
            "seed": self.seed,
            "kinds": list(self.kinds),
            "expected": [list(pair) for pair in sorted(self.expected, key=str)],
            "found": [list(pair) for pair in sorted(self.found, key=str)],
            "true_positives": self.true_positives,
            "false_positives": len(set(self.found) - set(self.expected)),
            "false_negatives": len(set(self.expected) - set(self.found)),
            "statements_source": self.statements_source,
            "hypopg": self.hypopg,
            "watch_queries": self.watch_queries,
            "samples": self.samples,
            "round_queries": self.round_queries,
            "lock_modes": list(self.lock_modes),
        }


def plan_for_seed(seed: int) -> PlantPlan:
    """Seeds divisible by 5 are clean; others plant a random non-empty subset of the kinds
    (all of them for odd seeds)."""
    if seed % 5 == 0:
        return PlantPlan.from_seed(seed, kinds=frozenset())
    if seed % 2:
        return PlantPlan.from_seed(seed)
    rng = random.Random(seed)
    return PlantPlan.from_seed(seed, kinds=frozenset(rng.sample(KINDS, rng.randint(2, 4))))


class LockWatcher:
    """Polls the relation locks held by the analyser's sessions until stopped."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.modes: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True, application_name="perf-locks") as conn:
            while not self._stop.is_set():
                rows = conn.execute(LOCKS_QUERY, (APPLICATION_NAME,)).fetchall()
                self.modes.update(str(row[0]) for row in rows)
                self._stop.wait(0.005)

    def __enter__(self) -> LockWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)


def measure_workload(
    admin_dsn: str, seed: int, seconds: float, extensions: tuple[str, ...], warm_up_s: float = 1.5
) -> WorkloadScore:
    """Plant, run, watch ``seconds``, score; the database is dropped afterwards."""
    plan = plan_for_seed(seed)
    with create_database(admin_dsn, f"measure{seed}") as dsn:
        plant(dsn, plan, extensions)
        with run_workload(dsn, plan):
            time.sleep(warm_up_s)
            with LockWatcher(dsn) as locks:
                result = asyncio.run(PostgresAnalyser(dsn).watch(seconds))
            agent = PostgresAnalyser(dsn)
            asyncio.run(agent.round())
            second = asyncio.run(agent.round())
    found = {(finding.kind, finding.table) for finding in result.findings}
    return WorkloadScore(
        seed=seed,
        kinds=tuple(sorted(plan.kinds)),
        expected=tuple(expected_findings(plan)),
        found=tuple(found),
        statements_source=result.statements_source,
        hypopg=result.hypopg,
        watch_queries=result.queries,
        samples=result.samples,
        round_queries=second.queries,
        lock_modes=tuple(sorted(locks.modes)),
    )


def summarise(scores: list[WorkloadScore]) -> dict[str, Any]:
    """Micro-averaged recall and precision over the workloads, clean ones included."""
    planted = sum(len(score.expected) for score in scores)
    reported = sum(len(score.found) for score in scores)
    hits = sum(score.true_positives for score in scores)
    clean = [score for score in scores if not score.expected]
    return {
        "workloads": len(scores),
        "planted": planted,
        "reported": reported,
        "true_positives": hits,
        "recall": hits / planted if planted else None,
        "precision": hits / reported if reported else None,
        "clean_workloads": len(clean),
        "clean_workloads_with_findings": sum(1 for score in clean if score.found),
        "max_round_queries": max((score.round_queries for score in scores), default=0),
        "lock_modes": sorted({mode for score in scores for mode in score.lock_modes}),
    }


#: The login role the analyser uses in overhead measurements, so that
#: ``pg_stat_statements`` can count its statements apart from the workload's.
AGENT_ROLE = "selfheal_perf_agent"
SERVER_CALLS_QUERY = """
SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements AS s
JOIN pg_roles AS r ON r.oid = s.userid JOIN pg_database AS d ON d.oid = s.dbid
WHERE r.rolname = %s AND d.datname = %s
"""


@dataclass(frozen=True)
class AgentOverhead:
    """Queries of agent rounds on one planted workload: the analyser's own count (readings,
    trials, background looks) and sampling looks, and, when the server preloads
    ``pg_stat_statements``, the server's count of the agent role's statements per round."""

    seed: int
    round_gap_s: float
    queries_per_round: tuple[int, ...]
    samples_per_round: tuple[int, ...]
    problem_open: bool = False
    server_calls_per_round: tuple[int, ...] | None = None

    def per_minute(self, interval_s: float, with_samples: bool = False) -> float:
        """Average queries per minute with one round every ``interval_s``, over the rounds
        after the first (which has no window yet); sampling looks too when asked."""
        totals = [
            queries + (samples if with_samples else 0)
            for queries, samples in zip(self.queries_per_round, self.samples_per_round, strict=True)
        ]
        later = totals[1:] or totals
        return sum(later) / len(later) * 60.0 / interval_s

    def server_per_minute(self, interval_s: float) -> float | None:
        """The server's count (every statement, sampling looks included) per minute."""
        if self.server_calls_per_round is None:
            return None
        later = self.server_calls_per_round[1:] or self.server_calls_per_round
        return sum(later) / len(later) * 60.0 / interval_s


def _counting(admin_dsn: str) -> bool:
    """Whether the server preloads ``pg_stat_statements``: then the extension is created in
    the admin database, whose view counts the statements of every database."""
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        row = connection.execute("SHOW shared_preload_libraries").fetchone()
        if row is None or "pg_stat_statements" not in str(row[0]):
            return False
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


def _agent_dsn(dsn: str) -> str:
    """The DSN of :data:`AGENT_ROLE` (created, allowed to read data and statistics)."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (AGENT_ROLE,))
        if exists.fetchone() is None:
            connection.execute(f"CREATE ROLE {AGENT_ROLE} LOGIN")
        connection.execute(f"GRANT pg_read_all_data, pg_read_all_stats TO {AGENT_ROLE}")
    return psycopg.conninfo.make_conninfo(dsn, user=AGENT_ROLE)


def _server_calls(admin_dsn: str, dsn: str) -> int:
    database = psycopg.conninfo.conninfo_to_dict(dsn).get("dbname")
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        row = connection.execute(SERVER_CALLS_QUERY, (AGENT_ROLE, database)).fetchone()
    return int(row[0]) if row else 0


def measure_agent_overhead(
    admin_dsn: str,
    seed: int,
    rounds: int,
    round_gap_s: float,
    extensions: tuple[str, ...],
    sample_s: float = 2.0,
    problem_open: bool = False,
) -> AgentOverhead:
    """Run ``rounds`` agent rounds ``round_gap_s`` apart on the seed's workload
    (:func:`plan_for_seed`: clean for seeds divisible by 5), as the agent does (a
    ``sample_s`` burst when ``problem_open`` or a candidate is pending), and count their
    queries: the analyser's count, and the server's (``pg_stat_statements``) when there."""
    plan = plan_for_seed(seed)
    queries, samples, server = [], [], []
    counting = _counting(admin_dsn)
    with create_database(admin_dsn, f"overhead{seed}") as dsn:
        plant(dsn, plan, extensions)
        analyser = PostgresAnalyser(_agent_dsn(dsn) if counting else dsn)
        with run_workload(dsn, plan):
            counted = _server_calls(admin_dsn, dsn) if counting else 0
            for number in range(rounds):
                if number:
                    time.sleep(round_gap_s)
                result = asyncio.run(analyser.round(sample_s, problem_open))
                queries.append(result.queries)
                samples.append(result.samples)
                if counting:
                    total = _server_calls(admin_dsn, dsn)
                    server.append(total - counted)
                    counted = total
    return AgentOverhead(
        seed, round_gap_s, tuple(queries), tuple(samples), problem_open,
        tuple(server) if counting else None,
    )  # fmt: skip
