"""The Prometheus-stack settings: [[notifiers]], prometheus_query targets, external_url."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal_ml.config import load_settings
from selfheal_ml.errors import ConfigError
from selfheal_ml.ports import notifier_specs, target_specs


def test_notifiers_and_query_targets_load(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, VALID))
    [webhook, alertmanager] = notifier_specs(settings)
    assert (webhook.kind, webhook.name, webhook.bearer_token) == ("webhook", "ops", "s3cret")
    assert (webhook.send_resolved, webhook.retries) == (False, 5)
    assert (alertmanager.name, alertmanager.resend_s) == ("alertmanager:http://am:9093", 30.0)
    assert settings.external_url == "https://heal.example"
    [spec] = target_specs(settings)
    assert spec.queries == ("up", "sum(rate(http_requests_total[1m]))")
    assert settings.masked()["notifiers"][0]["bearer_token"] == "********"


VALID = """
external_url = "https://heal.example"
[[targets]]
kind = "prometheus_query"
name = "prom"
url = "http://prometheus:9090"
queries = ["up", "sum(rate(http_requests_total[1m]))"]
[[notifiers]]
kind = "webhook"
name = "ops"
url = "https://hooks.example/x"
bearer_token = "s3cret"
send_resolved = false
retries = 5
[[notifiers]]
kind = "alertmanager"
url = "http://am:9093"
resend_s = 30
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "selfheal.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ('[[notifiers]]\nkind = "pager"\nurl = "http://x"\n', "notifiers.0.kind"),
        ('[[notifiers]]\nkind = "webhook"\nurl = "ftp://x"\n', "notifiers.0.url"),
        (
            '[[notifiers]]\nkind = "webhook"\nurl = "http://x"\nretries = -1\n',
            "notifiers.0.retries",
        ),
        ('[[notifiers]]\nkind = "webhook"\nurl = "http://x"\nwhat = 1\n', "notifiers.0.what"),
        ('external_url = "localhost"\n', "external_url"),
        ('[[targets]]\nkind = "prometheus_query"\nname = "p"\nurl = "http://p"\n', "targets.0"),
        (
            '[[targets]]\nkind = "http"\nname = "p"\nurl = "http://p"\nqueries = ["up"]\n',
            "targets.0",
        ),
    ],
)
def test_a_bad_setting_fails_at_start_up_naming_it(tmp_path: Path, text: str, setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text))
    assert str(caught.value).startswith(f"invalid setting {setting}")


def test_two_notifiers_with_one_name_are_refused(tmp_path: Path) -> None:
    text = '[[notifiers]]\nkind = "webhook"\nurl = "http://x"\n' * 2
    with pytest.raises(ConfigError, match="distinct names"):
        load_settings(_write(tmp_path, text))
