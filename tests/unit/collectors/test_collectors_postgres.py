"""The PostgreSQL collector's slow-query gauge and its setting, without a server.

Against a real server: tests/integration/test_collectors_postgres_redis.py and
tests/integration/test_scenario_slow_query.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from selfheal_ml.collectors import PostgresCollector, TargetSpec, build_collectors
from selfheal_ml.config import load_settings
from selfheal_ml.errors import ConfigError, ValidationError
from selfheal_ml.ports import target_specs

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROW = {
    "max_connections": 100,
    "total": 6,
    "active": 4,
    "idle": 2,
    "idle_in_transaction": 0,
    "long_running": 1,
    "slow_queries": 3,
}


def test_slow_queries_are_a_gauge_with_the_targets_labels() -> None:
    collector = PostgresCollector("shop-db", "postgresql://127.0.0.1/db", platform="shop")
    points = collector._activity_points(ROW, {"target": "shop-db", "platform": "shop"}, NOW)
    by_series = {point.series: point for point in points}
    slow = by_series['db_slow_queries{platform="shop",target="shop-db"}']
    assert slow.value == 3.0
    assert slow.labels == {"target": "shop-db", "platform": "shop"}
    assert by_series['db_long_running_queries{platform="shop",target="shop-db"}'].value == 1.0


def test_the_limit_defaults_to_one_second_and_follows_the_target() -> None:
    default = PostgresCollector("db", "postgresql://127.0.0.1/db")
    assert default.slow_query_ms == 1000.0
    spec = TargetSpec(kind="postgres", name="db", url="postgresql://127.0.0.1/db", slow_query_ms=50)
    [collector] = build_collectors([spec])
    assert isinstance(collector, PostgresCollector)
    assert collector.slow_query_ms == 50


@pytest.mark.parametrize("value", [0.0, -5.0, float("inf"), float("nan")])
def test_a_bad_limit_is_refused_naming_the_field(value: float) -> None:
    with pytest.raises(ValidationError, match="slow_query_ms"):
        TargetSpec(kind="postgres", name="db", url="postgresql://x/db", slow_query_ms=value)


def write_config(tmp_path: Path, slow_query_ms: str) -> Path:
    path = tmp_path / "selfheal.toml"
    path.write_text(
        '[[targets]]\nkind = "postgres"\nname = "db"\nurl = "postgresql://127.0.0.1/test"\n'
        f"slow_query_ms = {slow_query_ms}\n",
        encoding="utf-8",
    )
    return path


def test_the_config_setting_reaches_the_collector(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, "250"))
    [spec] = target_specs(settings)
    assert spec.slow_query_ms == 250.0
    [collector] = build_collectors([spec])
    assert isinstance(collector, PostgresCollector)
    assert collector.slow_query_ms == 250.0


def test_a_config_without_the_setting_keeps_the_default(tmp_path: Path) -> None:
    path = tmp_path / "selfheal.toml"
    path.write_text('[[targets]]\nkind = "postgres"\nname = "db"\nurl = "postgresql://h/db"\n')
    [spec] = target_specs(load_settings(path))
    assert spec.slow_query_ms == 1000.0


@pytest.mark.parametrize("value", ["0", "-1", "nan", '"fast"'])
def test_a_bad_config_value_names_the_setting(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"targets\.0\.slow_query_ms"):
        load_settings(write_config(tmp_path, value))
