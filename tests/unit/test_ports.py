"""Wiring from configuration: which executors the Repair agent's actions reach."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from selfheal_ml.actions import RepairRequest
from selfheal_ml.clock import RealClock
from selfheal_ml.config import load_settings
from selfheal_ml.errors import ConfigError
from selfheal_ml.ports import agent_ports, build_repair_service, repair_executors
from selfheal_ml.storage import Database
from selfheal_ml.storage.repairs import RepairAuditStore


def _request(target: str) -> RepairRequest:
    return RepairRequest(
        incident_id="i1",
        correlation_id="c1",
        action="restart_process",
        target=target,
        platform=target,
    )


def test_a_targets_restart_command_serves_restart_process(tmp_path: Path) -> None:
    marker = tmp_path / "restarted"
    script = f"open({str(marker)!r}, 'a').write('x')"
    config = tmp_path / "selfheal.toml"
    config.write_text(
        '[[targets]]\nkind = "http"\nname = "shop-web"\nplatform = "shop"\n'
        'url = "http://127.0.0.1:9/health"\n'
        f"restart_command = [{sys.executable!r}, '-c', {script!r}]\n"
    )
    executors = repair_executors(load_settings(config))
    restart = executors.resolve(_request("shop-web"))
    assert restart is not None
    by_name = asyncio.run(restart.execute(_request("shop-web")))
    by_platform = asyncio.run(restart.execute(_request("shop")))
    unknown = asyncio.run(restart.execute(_request("other")))
    assert by_name.ok and by_platform.ok
    assert marker.read_text() == "xx"
    assert not unknown.ok and "no restart command configured for other" in unknown.detail


def test_without_a_restart_command_nothing_serves_restart_process(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text('[[targets]]\nkind = "http"\nname = "web"\nurl = "http://127.0.0.1:9/"\n')
    assert "restart_process" not in repair_executors(load_settings(config))


def test_an_empty_argument_in_the_restart_command_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text(
        '[[targets]]\nkind = "http"\nname = "web"\nurl = "http://x/"\nrestart_command = [""]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.setting.startswith("targets.0.restart_command")


def test_the_scoring_workers_setting_reaches_the_predictive_agent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SELFHEAL_SCORING_WORKERS", "1")
    ports = agent_ports(load_settings(), {}, {})
    assert ports["scoring_workers"] == 1
    assert agent_ports(load_settings(), {}, {"scoring_workers": 0})["scoring_workers"] == 0


def test_the_loop_timing_reaches_the_agents_and_the_guard(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SELFHEAL_SETTLE_S", "3")
    monkeypatch.setenv("SELFHEAL_VERIFY_S", "20")
    monkeypatch.setenv("SELFHEAL_PLAN_WAIT_S", "10")
    monkeypatch.setenv("SELFHEAL_RETRY_FOR_S", "30")
    monkeypatch.setenv("SELFHEAL_REPAIR_COOLDOWN_S", "0")
    monkeypatch.setenv("SELFHEAL_APPROVAL_TIMEOUT_S", "40")
    monkeypatch.setenv("SELFHEAL_METRICS_INTERVAL_S", "4")
    settings = load_settings()
    ports = agent_ports(settings, {}, {})
    assert ports["diagnosis"] == {"settle_s": 3.0}
    assert ports["repair"] == {
        "verify_s": 20.0,
        "plan_wait_s": 10.0,
        "analysis_wait_s": 60.0,
        "retry_for_s": 30.0,
        "fresh_s": 10.0,  # two and a half collection rounds
    }
    assert ports["performance"]["problem_hold_s"] == 900.0
    audit = RepairAuditStore(Database(str(tmp_path / "audit.duckdb")))
    service = build_repair_service(settings, audit, RealClock(), 5, {})
    assert service.guard.policy.cooldown_s == 0
    assert service.guard.policy.approval_timeout_s == 40


def test_security_ports_from_the_toml(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from selfheal_ml.ports import security_ports
    from selfheal_ml.security.formats import LogFormat

    log = tmp_path / "auth.log"
    config = tmp_path / "selfheal.toml"
    config.write_text(
        f'db_path = "{tmp_path / "data" / "selfheal.duckdb"}"\n'
        '[security]\nnever_ban = ["192.0.2.0/24"]\ndry_run = true\n'
        f'[[security.sources]]\npath = "{log}"\nformat = "sshd"\nplatform = "shop"\n',
        "utf-8",
    )
    ports = security_ports(load_settings(config), datetime(2026, 12, 10, tzinfo=UTC))
    (source,) = ports["security_sources"]
    assert source.spec.path == str(log) and source.spec.log_format is LogFormat.SSHD
    assert ports["ban_policy"].settings.dry_run is True
    assert ports["ban_policy"].never_ban.covers("192.0.2.77")
    log.write_text("Dec 10 07:00:00 h sshd[1]: Accepted password for a from 1.2.3.4 port 1 ssh2\n")
    assert source.read_records() == []  # a file never read before is followed from its end
    with log.open("a") as handle:
        handle.write(
            "Dec 10 07:00:01 h sshd[1]: Accepted password for a from 1.2.3.4 port 1 ssh2\n"
        )
    assert [record.user for record in source.read_records()] == ["a"]
    source.close()
    assert (tmp_path / "data" / "selfheal.security_offsets.json").exists()


def test_with_sources_the_detector_scores_requests_for_injection(tmp_path: Path) -> None:
    """No registry champion here: the signatures score requests, by parameter value."""
    from datetime import UTC, datetime

    from selfheal_ml.ports import security_ports

    config = tmp_path / "selfheal.toml"
    config.write_text(
        f'db_path = "{tmp_path / "selfheal.duckdb"}"\n'
        f'[[security.sources]]\npath = "{tmp_path / "access.log"}"\nformat = "combined"\n',
        "utf-8",
    )
    ports = security_ports(load_settings(config), datetime(2026, 12, 10, tzinfo=UTC), None)
    scorer = ports["security_detector"].scorer
    assert scorer is not None
    attack, benign = scorer.score(["/search?q=1' OR '1'='1' --", "/search?q=red+shoes"])
    assert attack >= scorer.threshold > benign
    assert ports["security_detector"].profiles is None  # the request profile is opt-in


def test_the_request_profile_settings_reach_the_detector(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from selfheal_ml.ports import security_ports

    config = tmp_path / "selfheal.toml"
    config.write_text(
        f'db_path = "{tmp_path / "selfheal.duckdb"}"\n'
        "[security]\nrequest_profile = true\nrequest_profile_warmup = 500\n"
        "request_profile_threshold = 0.95\n"
        "[security.unusual_request]\ncapacity = 4\nleak_s = 30\n"
        f'[[security.sources]]\npath = "{tmp_path / "access.log"}"\nformat = "combined"\n',
        "utf-8",
    )
    ports = security_ports(load_settings(config), datetime(2026, 12, 10, tzinfo=UTC), None)
    detector = ports["security_detector"]
    assert (detector.profiles.warmup_requests, detector.profiles.threshold) == (500, 0.95)
    rule = detector.rules.unusual_request
    assert (rule.capacity, rule.leak_s) == (4, 30.0)


def test_breaker_threshold_and_approval_actions_reach_the_guard(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SELFHEAL_REPAIR_BREAKER_THRESHOLD", "1")
    config = tmp_path / "selfheal.toml"
    config.write_text('[agents.repair]\napproval_actions = ["reindex"]\n')
    audit = RepairAuditStore(Database(str(tmp_path / "audit.duckdb")))
    service = build_repair_service(load_settings(config), audit, RealClock(), 5, {})
    policy = service.guard.policy
    assert policy.breaker_threshold == 1
    assert (policy.risk_tiers["reindex"], policy.risk_tiers["restart_service"]) == ("high", "low")
    assert service.journal is not None  # its state is kept in the audit log's database


def test_two_databases_and_two_caches_each_get_their_own_executor(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text(
        "".join(
            f'[[targets]]\nkind = "{kind}"\nname = "{name}"\nurl = "{url}"\n'
            for kind, name, url in (
                ("postgres", "db-a", "postgresql://a/x"),
                ("postgres", "db-b", "postgresql://b/x"),
                ("redis", "cache-a", "redis://a/0"),
                ("redis", "cache-b", "redis://b/1"),
            )
        )
    )
    routes = repair_executors(load_settings(config))

    def name(action: str, target: str) -> str | None:
        found = routes.resolve(RepairRequest("i", "c", action, target))
        return None if found is None else found.name

    assert name("pg_reindex", "db-a") == "postgres:db-a"
    assert name("pg_reindex", "db-b") == "postgres:db-b"
    assert name("redis_memory_purge", "cache-a") == "redis:cache-a"
    assert name("redis_memory_purge", "cache-b") == "redis:cache-b"
    assert name("pg_reindex", "cache-a") is None


def test_each_database_and_cache_gets_an_analyser_with_its_platform(tmp_path: Path) -> None:
    from selfheal_ml.collectors.postgres_analysis import PostgresAnalyser
    from selfheal_ml.collectors.redis_analysis import RedisAnalyser

    config = tmp_path / "selfheal.toml"
    config.write_text(
        '[[targets]]\nkind = "postgres"\nname = "shop-db"\nurl = "postgresql://a/x"\n'
        'platform = "shop"\n'
        '[[targets]]\nkind = "redis"\nname = "shop-cache"\nurl = "redis://a/0"\n'
    )
    analysers = agent_ports(load_settings(config), {}, {})["performance_analysers"]
    assert isinstance(analysers["shop-db"], PostgresAnalyser)
    assert isinstance(analysers["shop-cache"], RedisAnalyser)
    assert (analysers["shop-db"].platform, analysers["shop-cache"].platform) == ("shop", None)
    config.write_text(config.read_text() + "[agents.performance]\nenabled = false\n")
    assert "performance_analysers" not in agent_ports(load_settings(config), {}, {})


def test_the_change_feed_is_the_simulators_unless_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Watching the simulator: its feed; with targets: none, or the configured one."""
    from selfheal_ml.ports import change_feed_ports

    monkeypatch.setenv("SELFHEAL_SIMULATOR_URL", "http://127.0.0.1:8729/")
    simulated = change_feed_ports(load_settings())
    assert simulated["change_log"].__self__.url == "http://127.0.0.1:8729/sim/config-changes"
    config = tmp_path / "selfheal.toml"
    config.write_text(
        '[[targets]]\nkind = "http"\nname = "shop-web"\nplatform = "shop"\n'
        'url = "http://127.0.0.1:9/health"\n'
    )
    assert change_feed_ports(load_settings(config)) == {}
    monkeypatch.setenv("SELFHEAL_CHANGE_FEED_URL", "https://deploys.example/changes")
    configured = change_feed_ports(load_settings(config))
    assert configured["change_log"].__self__.url == "https://deploys.example/changes"
    monkeypatch.setenv("SELFHEAL_CHANGE_FEED_URL", "deploys.example")
    with pytest.raises(ConfigError, match="SELFHEAL_CHANGE_FEED_URL"):
        load_settings(config)
