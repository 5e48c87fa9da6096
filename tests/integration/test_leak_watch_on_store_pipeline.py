"""``pipelines/leak_watch_on_store.py`` on a hand-made store: memory that follows a day of
traffic is learnt as healthy, and a ramp the traffic does not explain, in the replayed hour,
is predicted as a leak."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from selfheal_ml.clock import SimClock
from selfheal_ml.events import MetricPoint
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.metrics import MetricsStore
from tests.integration.pipeline_loading import load_pipeline

START = datetime(2026, 1, 21, 18, 0, tzinfo=UTC)
MEMORY = 'host_memory_percent{host="a-web-1",platform="a",target="a"}'
REQUESTS = 'http_requests_per_s{endpoint="/x",platform="a",target="a"}'
LABELS = {"platform": "a", "target": "a"}


def write_store(path: Path) -> None:
    """26 h of minutes: traffic 10-30 per second over the day, memory 45 + 0.2 x traffic plus
    AR(1) noise; from 18:10 a leak adds 0.2 points a minute."""
    rng = np.random.default_rng(7)
    first = START - timedelta(hours=25)
    points, noise = [], 0.0
    for minute in range(int((START - first).total_seconds() // 60) + 60):
        ts = first + timedelta(minutes=minute)
        traffic = 20.0 + 10.0 * math.sin(2 * math.pi * minute / 1440.0)
        noise = 0.9 * noise + 0.3 * rng.standard_normal()
        leak = 0.2 * max(0, minute - (int((START - first).total_seconds() // 60) + 10))
        memory = 45.0 + 0.2 * traffic + noise + leak
        points.append(MetricPoint(series=REQUESTS, ts=ts, value=traffic, labels=LABELS))
        points.append(
            MetricPoint(series=MEMORY, ts=ts, value=memory, labels={**LABELS, "host": "a-web-1"})
        )
    database = Database(path)
    store = MetricsStore(database, SimClock(START + timedelta(hours=1)))
    store.append_points(points)
    store.rollup(START + timedelta(hours=1))
    database.close()


def test_a_day_of_traffic_is_learnt_and_an_unexplained_ramp_is_predicted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "run.duckdb"
    write_store(store)
    pipeline = load_pipeline("leak_watch_on_store")
    argv = ["--db", str(store), "--platform", "a", "--start", "2026-01-21T18:00",
            "--minutes", "50", "--every", "10"]  # fmt: skip
    assert pipeline.main(argv) == 0
    out = capsys.readouterr().out
    model = out.splitlines()[0]
    share = float(model.split(" + ")[1].split(" x load")[0])
    assert share == pytest.approx(0.2, abs=0.05)
    assert "learnt on load up to 30.0 (99th percentile), no evidence past 36.0" in model
    assert "01-21 18:10" in out and "PREDICTS A LEAK" in out.splitlines()[-1]
    assert "PREDICTS A LEAK" not in out.splitlines()[1]  # 18:10: the leak has only begun


def test_a_platform_without_memory_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "run.duckdb"
    write_store(store)
    pipeline = load_pipeline("leak_watch_on_store")
    with pytest.raises(SystemExit):
        pipeline.main(["--db", str(store), "--platform", "b", "--start", "2026-01-21T18:00"])


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--start", "nope", "expected an ISO time"),
        ("--every", "0", "expected positive whole minutes"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = load_pipeline("leak_watch_on_store")
    argv = ["--db", "x.duckdb", "--platform", "a", "--start", "2026-01-21T18:00", option, value]
    with pytest.raises(SystemExit) as stopped:
        pipeline.main(argv)
    assert stopped.value.code == 2
    assert f"argument {option}: {message}" in capsys.readouterr().err
