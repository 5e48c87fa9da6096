"""``selfheal-ml analyze postgres`` against the real PostgreSQL, on planted problems.

Each test creates its own database (``perf_...``, dropped afterwards), plants problems with
:mod:`selfheal_ml.live.postgres_problems`, runs the planted traffic and watches it for a few
seconds. The analysis must report each planted problem and nothing else, and nothing at all on
a clean workload. HypoPG is used when the server offers it; ``pg_stat_statements`` when the
server preloads it (else the analysis samples ``pg_stat_activity``): both paths must pass.
Skipped, with the reason, when no PostgreSQL answers on loopback.
"""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest

from selfheal_ml.cli import main
from selfheal_ml.live.postgres_problems import (
    PlantPlan,
    create_database,
    expected_findings,
    plant,
    run_workload,
)

pytestmark = pytest.mark.integration

WATCH_SECONDS = "4"
WARM_UP_S = 1.5


def available_extensions(dsn: str) -> tuple[str, ...]:
    """The optional extensions this server can create: HypoPG, and pg_stat_statements when
    it is preloaded (creating it otherwise would give a view that cannot be read)."""
    with psycopg.connect(dsn) as connection:
        names = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM pg_available_extensions"
                " WHERE name IN ('hypopg', 'pg_stat_statements')"
            ).fetchall()
        }
        preloaded = str(connection.execute("SHOW shared_preload_libraries").fetchone())
    if "pg_stat_statements" not in preloaded:
        names.discard("pg_stat_statements")
    return tuple(sorted(names))


def analyse_json(dsn: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    status = main(["analyze", "postgres", "--dsn", dsn, "--seconds", WATCH_SECONDS, "--json"])
    out = capsys.readouterr().out
    assert status == 0, out
    records: list[dict[str, Any]] = json.loads(out)
    return records


def relations(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " ORDER BY 1"
        ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def test_each_planted_problem_is_found_and_nothing_else(
    postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = PlantPlan.from_seed(11)
    with create_database(postgres_dsn, "test") as dsn:
        plant(dsn, plan, available_extensions(postgres_dsn))
        with run_workload(dsn, plan):
            time.sleep(WARM_UP_S)
            records = analyse_json(dsn, capsys)
    found = {(record["kind"], record["table"]) for record in records}
    assert found == expected_findings(plan), json.dumps(records, indent=1)
    fields = {
        "kind",
        "table",
        "columns",
        "index",
        "fingerprint",
        "query",
        "mean_ms",
        "calls",
        "evidence",
        "recommendation",
    }
    assert all(fields <= set(record) for record in records)
    by_kind = {record["kind"]: record for record in records}
    assert by_kind["missing_index"]["columns"] == ["account_id"]
    assert by_kind["missing_index"]["recommendation"].startswith("CREATE INDEX CONCURRENTLY")
    assert by_kind["slow_query"]["mean_ms"] >= 100.0
    assert "pg_sleep" in by_kind["slow_query"]["query"]
    assert by_kind["unused_index"]["index"] == f"{plan.customers_table}_created_idx"
    assert "order_id" in by_kind["n_plus_one"]["query"]


def test_a_clean_workload_gives_no_finding_and_the_server_is_unchanged(
    postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = PlantPlan.from_seed(12, kinds=frozenset())
    with create_database(postgres_dsn, "test") as dsn:
        plant(dsn, plan, available_extensions(postgres_dsn))
        before = relations(dsn)
        with run_workload(dsn, plan):
            time.sleep(WARM_UP_S)
            records = analyse_json(dsn, capsys)
        assert relations(dsn) == before
    assert records == []


def test_a_bad_dsn_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["analyze", "postgres", "--dsn", "postgresql://nobody@127.0.0.1:1/x", "--seconds", "1"]
    )
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert error.startswith("selfheal-ml: cannot analyse the database:")
    assert "\n" not in error
