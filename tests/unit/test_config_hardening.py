"""Settings that protect the service: limits, the admin token, secrets in ``config show``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from selfheal_ml.config import Limits, Settings, load_settings
from selfheal_ml.errors import ConfigError


@pytest.mark.parametrize("token", ["", "   "])
def test_empty_admin_token_is_refused_naming_the_variable(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", token)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == "SELFHEAL_ADMIN_TOKEN"


def test_limits_have_safe_defaults_and_refuse_zero(tmp_path: Path) -> None:
    limits = Settings().limits
    assert limits == Limits()
    assert 0 < limits.max_body_bytes <= 64 * 1024 * 1024
    config = tmp_path / "bad.toml"
    config.write_text("[limits]\nmax_body_bytes = 0\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.setting == "limits.max_body_bytes"


def test_body_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFHEAL_MAX_BODY_BYTES", "1234")
    assert load_settings().limits.max_body_bytes == 1234


def test_config_show_masks_database_passwords(tmp_path: Path) -> None:
    config = tmp_path / "targets.toml"
    config.write_text(
        '[[targets]]\nkind = "postgres"\nname = "shop"\n'
        'url = "postgresql://shop:pg-s3cret@db:5432/shop"\n'
        '[[targets]]\nkind = "redis"\nname = "cache"\nurl = "redis://:redis-s3cret@cache:6379/0"\n'
        '[[targets]]\nkind = "postgres"\nname = "dsn"\n'
        'url = "host=db user=shop password=dsn-s3cret dbname=shop"\n',
        "utf-8",
    )
    shown = subprocess.run(
        [sys.executable, "-m", "selfheal_ml.cli", "config", "show", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "s3cret" not in shown
    urls = [target["url"] for target in json.loads(shown)["targets"]]
    assert urls[0] == "postgresql://shop:********@db:5432/shop"
