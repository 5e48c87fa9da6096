"""``/metrics`` is a valid exposition: every series once, ``promtool check metrics`` clean,
and the model output (scores, forecasts, breach ETAs) and delivery counts are on it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from selfheal_ml.clock import SimClock
from selfheal_ml.storage.anomalies import ScoredPoint

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana" / "selfheal-ml-scores.json"
SERIES = 'host_cpu_percent{host="a",platform="p"}'


def duplicate_series(text: str) -> list[str]:
    """Series (name and label set) that appear more than once on an exposition page."""
    seen: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            seen[(sample.name, tuple(sorted(sample.labels.items())))] += 1
    return [f"{name}{dict(labels)}" for (name, labels), count in seen.items() if count > 1]


def test_duplicate_series_are_detected() -> None:
    page = '# TYPE x counter\nx_total{a="1"} 1\nx_total{a="1"} 2\n'
    assert duplicate_series(page) == ["x_total{'a': '1'}"]


def _seed_model_output(client: TestClient, sim_clock: SimClock) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    now = sim_clock.now()
    runtime.anomalies.append_scores(
        [
            ScoredPoint(
                series=SERIES,
                ts=now,
                value=91.0,
                score=5.0,
                calibrated=4.2,
                is_anomaly=True,
                expected_low=None,
                expected_high=None,
            ),
            ScoredPoint(
                series="quiet",
                ts=now,
                value=1.0,
                score=0.1,
                calibrated=0.3,
                is_anomaly=False,
                expected_low=None,
                expected_high=None,
            ),
        ]
    )
    steps = range(1, 25)
    frame = pd.DataFrame(
        {
            "step": list(steps),
            "ts": [now + timedelta(hours=step) for step in steps],
            "mean": [50.0 + step for step in steps],
            "lo_80": [45.0 + step for step in steps],
            "hi_80": [55.0 + step for step in steps],
            "lo_95": [40.0 + step for step in steps],
            "hi_95": [60.0 + step for step in steps],
        }
    )
    runtime.forecasts.save(SERIES, now, "ets", False, frame)
    runtime.forecasts.record_breach(SERIES, now, 95.0, now + timedelta(hours=3), 0.8, 2.0)


def test_the_page_has_unique_series_and_passes_promtool(
    client: TestClient, sim_clock: SimClock
) -> None:
    _seed_model_output(client, sim_clock)
    text = client.get("/metrics").text
    assert duplicate_series(text) == []
    assert (
        'selfheal_anomaly_score{series="host_cpu_percent{host=\\"a\\",platform=\\"p\\"}"} 4.2'
        in text
    )
    assert 'selfheal_anomaly{series="quiet"} 0.0' in text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    forecast = {
        (sample.labels["horizon_h"], sample.labels["forecast_quantile"]): sample.value
        for sample in families["selfheal_forecast"].samples
    }
    assert forecast[("1", "0.5")] == 51.0 and forecast[("24", "0.975")] == 84.0
    [eta] = families["selfheal_breach_eta_seconds"].samples
    assert eta.value == pytest.approx(3 * 3600.0)
    assert {s.labels["event_type"] for s in families["selfheal_bus_delivered"].samples} >= {
        "AnomalyDetected"
    }
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (apt-get install prometheus): uniqueness checked only")
    check = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_grafana_dashboard_reads_only_metrics_the_page_exposes(
    client: TestClient, sim_clock: SimClock
) -> None:
    _seed_model_output(client, sim_clock)
    families = list(text_string_to_metric_families(client.get("/metrics").text))
    names = {sample.name for family in families for sample in family.samples}
    names |= {family.name + ("_total" if family.type == "counter" else "") for family in families}
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"selfheal_[a-z_]+", target["expr"])
    }
    assert used and used <= names, sorted(used - names)


def test_top_n_bounds_the_exported_series(client: TestClient, sim_clock: SimClock) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    now = sim_clock.now()
    runtime.anomalies.append_scores(
        [
            ScoredPoint(
                series=f"s{i}",
                ts=now,
                value=1.0,
                score=1.0,
                calibrated=float(i),
                is_anomaly=False,
                expected_low=None,
                expected_high=None,
            )
            for i in range(50)
        ]
    )
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    exported = [sample.labels["series"] for sample in families["selfheal_anomaly_score"].samples]
    assert len(exported) == 20 and "s49" in exported and "s0" not in exported
