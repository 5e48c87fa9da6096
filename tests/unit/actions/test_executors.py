"""Executors without servers: HTTP through httpx.MockTransport, real subprocesses, SQL text."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from selfheal_ml.actions import (
    PostgresExecutor,
    ProcessRestartExecutor,
    RedisExecutor,
    RepairRequest,
    ShellExecutor,
    SimulatorExecutor,
    WebhookExecutor,
)
from selfheal_ml.actions.postgres import build_create_index, build_reindex


def request(action: str = "restart_service", target: str = "p1", **params: object) -> RepairRequest:
    return RepairRequest("inc-7", "corr-7", action, target, params=params)


async def test_webhook_posts_the_request_as_json() -> None:
    seen: list[httpx.Request] = []

    def answer(http_request: httpx.Request) -> httpx.Response:
        seen.append(http_request)
        return httpx.Response(200)

    executor = WebhookExecutor(
        "hook", "http://ops.invalid/r", transport=httpx.MockTransport(answer)
    )
    result = await executor.execute(request(pattern="x"))
    assert result.ok and result.data["status_code"] == 200
    body = json.loads(seen[0].content)
    assert body["correlation_id"] == "corr-7" and body["params"] == {"pattern": "x"}


@pytest.mark.parametrize("status", [404, 500])
async def test_webhook_non_2xx_is_a_failure(status: int) -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(status))
    result = await WebhookExecutor("hook", "http://ops.invalid", transport=transport).execute(
        request()
    )
    assert not result.ok and str(status) in result.detail


async def test_webhook_timeout_is_a_failure_naming_the_limit() -> None:
    def slow(_: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    executor = WebhookExecutor(
        "hook", "http://ops.invalid", timeout_s=0.5, transport=httpx.MockTransport(slow)
    )
    result = await executor.execute(request())
    assert not result.ok and "timed out after 0.5 s" in result.detail


async def test_simulator_executor_sends_platform_and_action() -> None:
    bodies: list[dict[str, str]] = []

    def answer(http_request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(http_request.content))
        return httpx.Response(
            200, json={"action": "clear_cache", "platform": "p1", "fixed": False, "fault_ids": []}
        )

    executor = SimulatorExecutor("http://sim.invalid", transport=httpx.MockTransport(answer))
    result = await executor.execute(request("clear_cache"))
    assert bodies == [{"platform": "p1", "action": "clear_cache"}]
    assert result.ok and result.detail == "clear_cache on p1: ended no fault"


async def test_simulator_executor_reports_a_rejected_action() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(422, json={"detail": "bad"}))
    result = await SimulatorExecutor("http://sim.invalid", transport=transport).execute(
        request("fly")
    )
    assert not result.ok and "422" in result.detail


async def test_shell_runs_only_configured_commands_without_a_shell() -> None:
    commands = {"greet": [sys.executable, "-c", "import sys; print(sys.argv[1:])", "a;b"]}
    executor = ShellExecutor("ops", commands)
    result = await executor.execute(request("run", command="greet"))
    assert result.ok and "['a;b']" in result.detail  # the ';' reached argv untouched
    unknown = await executor.execute(request("run", command="rm -rf /"))
    assert not unknown.ok and "no command named rm -rf /" in unknown.detail


async def test_shell_non_zero_exit_and_timeout_are_failures() -> None:
    executor = ShellExecutor(
        "ops",
        {
            "fail": [sys.executable, "-c", "raise SystemExit(3)"],
            "hang": [sys.executable, "-c", "import time; time.sleep(30)"],
        },
        timeout_s=0.5,
    )
    failed = await executor.execute(request("fail"))
    assert not failed.ok and failed.data["exit_code"] == 3
    hung = await executor.execute(request("hang"))
    assert not hung.ok and "killed after 0.5 s" in hung.detail


def test_shell_refuses_a_command_given_as_one_string() -> None:
    with pytest.raises(ValueError, match=r"commands\.bad"):
        ShellExecutor("ops", {"bad": "systemctl restart nginx"})


async def test_process_restart_uses_the_target_s_command() -> None:
    executor = ProcessRestartExecutor({"p1": [sys.executable, "-c", "print('restarted')"]})
    assert (await executor.execute(request(target="p1"))).ok
    missing = await executor.execute(request(target="p2"))
    assert not missing.ok and "p2" in missing.detail


def test_postgres_statements_quote_identifiers() -> None:
    hostile = 'orders"; DROP TABLE users; --'
    statement = build_reindex({"kind": "table", "name": hostile, "concurrently": True})
    assert statement.as_string() == 'REINDEX TABLE CONCURRENTLY "orders""; DROP TABLE users; --"'
    create, index = build_create_index(
        {"table": "orders", "schema": "app", "columns": ["a", "b"], "index": "orders_ab"}
    )
    assert create.as_string() == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders_ab" ON "app"."orders" ("a", "b")'
    )
    assert index == "orders_ab"


@pytest.mark.parametrize(
    ("action", "params", "problem"),
    [
        ("pg_reindex", {"kind": "database", "name": "x"}, "params.kind"),
        ("pg_create_index_concurrently", {"table": "t", "columns": "a"}, "params.columns"),
        ("pg_terminate_idle", {"older_than_s": -1}, "params.older_than_s"),
        ("pg_vacuum_everything", {}, "cannot run"),
    ],
)
async def test_postgres_bad_params_fail_before_connecting(
    action: str, params: dict[str, object], problem: str
) -> None:
    executor = PostgresExecutor("pg", "postgresql://nobody@127.0.0.1:1/none")
    result = await executor.execute(RepairRequest("inc-7", "corr-7", action, "db", params=params))
    assert not result.ok and problem in result.detail


async def test_redis_refuses_a_catch_all_pattern_before_connecting() -> None:
    executor = RedisExecutor("cache", "redis://127.0.0.1:1/0")
    result = await executor.execute(request("redis_delete_pattern", pattern="*"))
    assert not result.ok and "would match every key" in result.detail


async def test_unreachable_servers_are_failures_not_exceptions() -> None:
    pg = PostgresExecutor("pg", "postgresql://nobody@127.0.0.1:1/none", timeout_s=2)
    redis_executor = RedisExecutor("cache", "redis://127.0.0.1:1/0", timeout_s=2)
    assert not (await pg.execute(request("pg_terminate_idle"))).ok
    result = await redis_executor.execute(request("redis_delete_pattern", pattern="a:*"))
    assert not result.ok and "failed" in result.detail
