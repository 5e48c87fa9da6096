"""Settings: seed defaults, every environment override, TOML, and the bad-value errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from selfheal_ml.config import AGENT_NAMES, Agents, AgentToggle, Settings, load_settings
from selfheal_ml.errors import ConfigError


def test_seed_defaults() -> None:
    settings = load_settings()
    assert settings.intervals.health_check_s == 30
    assert settings.intervals.metrics_s == 60
    assert settings.intervals.optimization_s == 300
    assert settings.thresholds.error_rate == 0.05
    assert settings.thresholds.response_time_ms == 2000
    assert settings.thresholds.cpu_percent == 80
    assert settings.thresholds.memory_percent == 85
    assert settings.thresholds.disk_percent == 90
    assert all(settings.agent_enabled(name) for name in AGENT_NAMES)
    assert settings.agents.repair.auto is True
    assert settings.db_path == "data/selfheal.duckdb"
    assert settings.mlflow_tracking_uri == "sqlite:///mlruns/mlflow.db"
    assert settings.admin_token is None


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_each_agent_can_be_disabled(agent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"AGENT_{agent.upper()}_ENABLED", "false")
    settings = load_settings()
    assert not settings.agent_enabled(agent)
    assert all(settings.agent_enabled(other) for other in AGENT_NAMES if other != agent)


def test_global_switch_disables_every_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENABLE_SELF_HEALING", "false")
    settings = load_settings()
    assert not any(settings.agent_enabled(name) for name in AGENT_NAMES)


def test_string_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_REPAIR_AUTO", "false")
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", "s3cret")
    monkeypatch.setenv("SELFHEAL_DB", "/tmp/x.duckdb")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("SELFHEAL_HEALTH_CHECK_INTERVAL_S", "5")
    monkeypatch.setenv("SELFHEAL_METRICS_INTERVAL_S", "10")
    monkeypatch.setenv("SELFHEAL_OPTIMIZATION_INTERVAL_S", "20")
    settings = load_settings()
    assert settings.agents.repair.auto is False
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "s3cret"
    assert settings.db_path == "/tmp/x.duckdb"
    assert settings.mlflow_tracking_uri == "http://127.0.0.1:5000"
    assert (settings.intervals.health_check_s, settings.intervals.metrics_s) == (5, 10)
    assert settings.intervals.optimization_s == 20


@pytest.mark.parametrize(
    ("variable", "setting", "default", "good", "bad"),
    [
        ("SELFHEAL_DB_MEMORY_LIMIT_MB", "db_memory_limit_mb", 256, ("512", 512), "8"),
        ("SELFHEAL_DB_ALLOCATOR_THREADS", "db_allocator_background_threads", True,
         ("false", False), "sometimes"),
        ("SELFHEAL_DB_CHECKPOINT_MB", "db_checkpoint_threshold_mb", 1, ("16", 16), "0"),
    ],
)  # fmt: skip
def test_the_duckdb_settings_have_their_defaults_and_are_validated(
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    setting: str,
    default: object,
    good: tuple[str, object],
    bad: str,
) -> None:
    """Each DuckDB setting: its default, a value read from the environment, and an invalid
    value failing at start-up with the variable named."""
    assert getattr(load_settings(), setting) == default
    monkeypatch.setenv(variable, good[0])
    assert getattr(load_settings(), setting) == good[1]
    monkeypatch.setenv(variable, bad)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == variable


def test_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_REPAIR_ENABLED", "maybe")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == "AGENT_REPAIR_ENABLED"
    assert "boolean" in caught.value.expected
    assert "'maybe'" in str(caught.value)


def test_negative_interval_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFHEAL_HEALTH_CHECK_INTERVAL_S", "-1")
    with pytest.raises(ConfigError, match=r"SELFHEAL_HEALTH_CHECK_INTERVAL_S.*greater than 0"):
        load_settings()


def test_toml_file_and_environment_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text(
        "[intervals]\nhealth_check_s = 10\nmetrics_s = 15\n"
        "[agents.security]\nenabled = false\n"
        '[[targets]]\nkind = "postgres"\nname = "db"\nurl = "postgresql://127.0.0.1/test"\n'
    )
    monkeypatch.setenv("SELFHEAL_METRICS_INTERVAL_S", "20")
    settings = load_settings(config)
    assert settings.intervals.health_check_s == 10
    assert settings.intervals.metrics_s == 20  # environment wins over the file
    assert not settings.agent_enabled("Security")
    assert settings.targets[0].kind == "postgres"


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text("[intervals]\nhealth_check_seconds = 10\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.setting == "intervals.health_check_seconds"


def test_negative_interval_in_toml_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text("[intervals]\nmetrics_s = -5\n")
    with pytest.raises(ConfigError, match=r"intervals\.metrics_s"):
        load_settings(config)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--config"):
        load_settings(tmp_path / "absent.toml")


def test_masked_hides_the_token() -> None:
    settings = Settings(admin_token="s3cret")  # type: ignore[arg-type]
    shown = settings.masked()
    assert shown["admin_token"] == "********"
    assert "s3cret" not in str(shown)


def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    environment = {"AGENT_REPAIR_ENABLED": "maybe", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "selfheal_ml.cli", "config", "show"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "AGENT_REPAIR_ENABLED" in lines[0]
    assert "expected a boolean" in lines[0]
    assert "'maybe'" in lines[0]


def test_scoring_workers_from_the_environment_and_its_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().scoring_workers == 0
    monkeypatch.setenv("SELFHEAL_SCORING_WORKERS", "2")
    assert load_settings().scoring_workers == 2
    monkeypatch.setenv("SELFHEAL_SCORING_WORKERS", "-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == "SELFHEAL_SCORING_WORKERS"


LOOP_TIMING = {
    "SELFHEAL_SETTLE_S": (("diagnostic", "settle_s"), 60.0),
    "SELFHEAL_VERIFY_S": (("repair", "verify_s"), 300.0),
    "SELFHEAL_PLAN_WAIT_S": (("repair", "plan_wait_s"), 180.0),
    "SELFHEAL_RETRY_FOR_S": (("repair", "retry_for_s"), 900.0),
    "SELFHEAL_REPAIR_COOLDOWN_S": (("repair", "cooldown_s"), 60.0),
    "SELFHEAL_APPROVAL_TIMEOUT_S": (("repair", "approval_timeout_s"), 900.0),
}


def _timing(settings: object, path: tuple[str, str]) -> float:
    agent = getattr(settings.agents, path[0])
    return float(getattr(agent, path[1]))


@pytest.mark.parametrize("variable", sorted(LOOP_TIMING))
def test_loop_timing_defaults_and_environment(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, default = LOOP_TIMING[variable]
    assert _timing(load_settings(), path) == default
    monkeypatch.setenv(variable, "2.5")
    assert _timing(load_settings(), path) == 2.5


@pytest.mark.parametrize("variable", sorted(LOOP_TIMING))
def test_bad_loop_timing_names_the_variable(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, "-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == variable
    assert "'-1'" in str(caught.value)


def test_a_zero_cooldown_is_allowed_a_zero_verification_window_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SELFHEAL_REPAIR_COOLDOWN_S", "0")
    assert load_settings().agents.repair.cooldown_s == 0
    monkeypatch.setenv("SELFHEAL_VERIFY_S", "0")
    with pytest.raises(ConfigError, match=r"SELFHEAL_VERIFY_S.*greater than 0"):
        load_settings()


def test_loop_timing_in_toml(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text("[agents.diagnostic]\nsettle_s = 5\n[agents.repair]\nverify_s = 30\n")
    settings = load_settings(config)
    assert settings.agents.diagnostic.settle_s == 5
    assert settings.agents.repair.verify_s == 30


def test_simulator_url_from_the_environment_must_be_a_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SELFHEAL_SIMULATOR_URL", "http://127.0.0.1:8729")
    assert load_settings().simulator_url == "http://127.0.0.1:8729"
    monkeypatch.setenv("SELFHEAL_SIMULATOR_URL", "127.0.0.1:8729")
    with pytest.raises(ConfigError, match=r"SELFHEAL_SIMULATOR_URL: expected an http"):
        load_settings()


def test_security_sources_and_thresholds_from_toml(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text(
        '[security]\nnever_ban = ["10.0.0.0/8", "192.0.2.10"]\ndry_run = true\n'
        "[security.brute_force]\nmaxretry = 3\nfindtime_s = 120\n"
        '[[security.sources]]\npath = "/var/log/auth.log"\nformat = "sshd"\n'
        '[[security.sources]]\npath = "/var/log/nginx/access.log"\nformat = "combined"\n'
        'platform = "shop"\n',
        "utf-8",
    )
    security = load_settings(config).security
    assert [(s.path, s.format, s.platform) for s in security.sources] == [
        ("/var/log/auth.log", "sshd", ""),
        ("/var/log/nginx/access.log", "combined", "shop"),
    ]
    rules = security.detection_rules()
    assert (rules.brute_force.maxretry, rules.brute_force.findtime_s) == (3, 120)
    assert rules.slow_brute_force.findtime_s == 86_400
    assert security.ban_settings().dry_run is True
    never_ban = security.never_ban_list()
    assert never_ban.covers("10.9.9.9") and never_ban.covers("127.0.0.1")
    assert not never_ban.covers("192.0.2.11")


def test_the_disk_limit_from_toml_and_a_bad_one_named(tmp_path: Path) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text("[thresholds]\ndisk_percent = 80\n", "utf-8")
    assert load_settings(config).thresholds.disk_percent == 80
    config.write_text("[thresholds]\ndisk_percent = 120\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.setting == "thresholds.disk_percent"


def test_security_defaults_are_fail2ban_stock() -> None:
    security = load_settings().security
    assert security.sources == ()
    assert (security.brute_force.maxretry, security.brute_force.findtime_s) == (5, 600)
    assert security.bantime_s == 600 and security.dry_run is False


@pytest.mark.parametrize(
    ("toml", "setting"),
    [
        ('[security]\nnever_ban = ["10.0.0.0/33"]\n', "security.never_ban"),
        ("[security.brute_force]\nmaxretry = 0\n", "security.brute_force.maxretry"),
        ('[[security.sources]]\npath = "/x"\nformat = "xml"\n', "security.sources.0.format"),
        ('[[security.sources]]\nformat = "sshd"\n', "security.sources.0.path"),
        ("[security]\nbanana = 1\n", "security.banana"),
    ],
)
def test_bad_security_setting_is_named(tmp_path: Path, toml: str, setting: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.setting.startswith(setting)


def test_security_dry_run_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFHEAL_SECURITY_DRY_RUN", "true")
    assert load_settings().security.dry_run is True


def test_the_performance_agent_accepts_a_plain_toggle_and_its_own_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = Agents(performance=AgentToggle(enabled=False)).performance
    assert (plain.enabled, plain.propose_indexes, plain.sample_s) == (False, False, 2.0)
    monkeypatch.setenv("SELFHEAL_PERFORMANCE_PROPOSE_INDEXES", "true")
    assert load_settings().agents.performance.propose_indexes is True


def test_bouncer_keys_are_validated_and_masked(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text('[security]\nbouncer_api_keys = ["abc"]\n')
    with pytest.raises(ConfigError) as error:
        load_settings(short)
    assert "security.bouncer_api_keys" in str(error.value)
    good = tmp_path / "good.toml"
    good.write_text('[security]\nbouncer_api_keys = ["0123456789abcdef0123"]\n')
    settings = load_settings(good)
    assert settings.security.bouncer_api_keys[0].get_secret_value() == "0123456789abcdef0123"
    assert settings.masked()["security"]["bouncer_api_keys"] == ["********"]


def test_the_predictive_short_look_is_off_by_default_and_validated(tmp_path: Path) -> None:
    assert load_settings().agents.predictive.leak_window_s == 0.0
    plain = Agents(predictive=AgentToggle(enabled=False)).predictive
    assert (plain.enabled, plain.leak_window_s) == (False, 0.0)
    on = tmp_path / "on.toml"
    on.write_text("[agents.predictive]\nleak_window_s = 2700\n")
    assert load_settings(on).agents.predictive.leak_window_s == 2700.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[agents.predictive]\nleak_window_s = -1\n")
    with pytest.raises(ConfigError) as error:
        load_settings(bad)
    assert "agents.predictive.leak_window_s" in str(error.value)


def test_the_short_look_can_be_turned_on_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SELFHEAL_LEAK_WINDOW_S", "2700")
    assert load_settings().agents.predictive.leak_window_s == 2700.0


def test_the_leak_watch_is_on_by_default_and_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().agents.predictive.leak_ramp_z == 5.5
    assert load_settings().agents.predictive.disk_ramp_z == 6.5
    bad = tmp_path / "bad.toml"
    bad.write_text("[agents.predictive]\nleak_ramp_z = -1\n")
    with pytest.raises(ConfigError) as error:
        load_settings(bad)
    assert "agents.predictive.leak_ramp_z" in str(error.value)
    monkeypatch.setenv("SELFHEAL_LEAK_RAMP_Z", "0")
    assert load_settings().agents.predictive.leak_ramp_z == 0.0
    monkeypatch.setenv("SELFHEAL_DISK_RAMP_Z", "0")
    assert load_settings().agents.predictive.disk_ramp_z == 0.0
    assert load_settings().agents.predictive.leak_confirm_s == 0.0
    monkeypatch.setenv("SELFHEAL_LEAK_CONFIRM_S", "-5")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "SELFHEAL_LEAK_CONFIRM_S" in str(error.value)
