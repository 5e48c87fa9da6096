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


class _LockWatcher:
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

    def __enter__(self) -> _LockWatcher:
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
            with _LockWatcher(dsn) as locks:
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


@dataclass(frozen=True)
class AgentOverhead:
    """Queries of agent rounds (sampling looks excluded) on one planted workload."""

    seed: int
    round_gap_s: float
    queries_per_round: tuple[int, ...]
    samples_per_round: tuple[int, ...]

    def per_minute(self, interval_s: float) -> float:
        """Average queries per minute with one round every ``interval_s``, over the rounds
        after the first (which has no window yet)."""
        later = self.queries_per_round[1:] or self.queries_per_round
        return sum(later) / len(later) * 60.0 / interval_s


def measure_agent_overhead(
    admin_dsn: str,
    seed: int,
    rounds: int,
    round_gap_s: float,
    extensions: tuple[str, ...],
    sample_s: float = 2.0,
) -> AgentOverhead:
    """Run ``rounds`` agent rounds ``round_gap_s`` apart on the seed's workload
    (:func:`plan_for_seed`: clean for seeds divisible by 5), as the agent does (a 2 s sampling
    burst while sampling is wanted), and count their queries."""
    plan = plan_for_seed(seed)
    queries, samples = [], []
    with create_database(admin_dsn, f"overhead{seed}") as dsn:
        plant(dsn, plan, extensions)
        analyser = PostgresAnalyser(dsn)
        with run_workload(dsn, plan):
            for number in range(rounds):
                if number:
                    time.sleep(round_gap_s)
                result = asyncio.run(analyser.round(sample_s))
                queries.append(result.queries)
                samples.append(result.samples)
    return AgentOverhead(seed, round_gap_s, tuple(queries), tuple(samples))
