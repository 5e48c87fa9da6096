"""A forecast round fitted in a child process gives the in-process forecasts, leaves statsmodels
out of the parent, and a child that dies is logged without stopping the agent."""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.agents.base import Thresholds
from selfheal_ml.agents.forecast_fitting import fit_series
from selfheal_ml.agents.forecasting import ForecastRound, default_forecaster
from selfheal_ml.clock import SimClock
from selfheal_ml.storage import Database
from selfheal_ml.storage.forecasts import LEVELS, ForecastStore
from selfheal_ml.storage.metrics import MetricsStore

START = datetime(2026, 1, 5, tzinfo=UTC)


def _history(hours: int = 24 * 5, seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=hours, freq="h", tz="UTC")
    values = 50 + 10 * np.sin(np.arange(hours) * 2 * np.pi / 24) + rng.normal(0, 1, hours)
    return pd.Series(values, index=index)


CHILD_PROGRAM = """
import json, sys
import numpy as np, pandas as pd
from selfheal_ml.agents.forecast_fitting import fit_series_in_child
from selfheal_ml.agents.forecasting import default_forecaster
values = json.loads(sys.stdin.read())
index = pd.date_range("2026-01-05", periods=len(values), freq="h", tz="UTC")
fitted = fit_series_in_child(default_forecaster, [("s", pd.Series(values, index=index))], 24,
                             (80, 95))
forecast = fitted.forecasts["s"]
print(json.dumps({"mean": forecast.mean.tolist(), "upper": forecast.upper[95].tolist(),
                  "model": forecast.model, "peak": fitted.peak_rss_mb,
                  "loaded": [m for m in ("statsmodels", "scipy.optimize") if m in sys.modules]}))
"""


def test_the_child_forecasts_what_this_process_does_and_takes_statsmodels_with_it() -> None:
    history = _history()
    here = fit_series(default_forecaster, [("s", history)], 24, (80, 95)).forecasts["s"]
    finished = subprocess.run(
        [sys.executable, "-c", CHILD_PROGRAM],
        input=json.dumps(history.tolist()),
        capture_output=True,
        text=True,
        check=True,
    )
    child = json.loads(finished.stdout.strip().splitlines()[-1])
    assert child["model"] == here.model
    np.testing.assert_allclose(child["mean"], here.mean, rtol=1e-9)
    np.testing.assert_allclose(child["upper"], here.upper[95], rtol=1e-9)
    assert child["loaded"] == []  # the parent never imported statsmodels or SciPy's optimizer
    assert child["peak"] > 0


def test_one_bad_series_does_not_stop_the_others() -> None:
    histories = [("a", _history(48)), ("b", _history(49)), ("c", _history(50))]
    fitted = fit_series(default_forecaster, histories, 6, LEVELS)
    assert sorted(fitted.forecasts) == ["a", "b", "c"] and fitted.failures == {}
    broken = fit_series(lambda: 1 / 0, histories, 6, LEVELS)  # type: ignore[arg-type,return-value]
    assert broken.forecasts == {} and set(broken.failures) == {"a", "b", "c"}
    assert broken.failures["a"].startswith("ZeroDivisionError")


def _round(tmp_path: Path, **options: object) -> ForecastRound:
    database = Database(tmp_path / "selfheal.duckdb")
    metrics = MetricsStore(database, SimClock(START))
    return ForecastRound(metrics, ForecastStore(database), Thresholds(), **options)  # type: ignore[arg-type]


def test_a_child_that_dies_is_logged_and_the_round_gives_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dying = functools.partial(os._exit, 3)  # picklable: the child calls it and is gone
    forecasting = _round(tmp_path, make_forecaster=dying, fit_in_child=True)
    with caplog.at_level(logging.ERROR):
        assert forecasting.fit([("s", _history())]) is None
    assert any("failed in its child process" in r.getMessage() for r in caplog.records)
    forecasting.make_forecaster = default_forecaster  # the next round runs as usual
    fitted = forecasting.fit([("s", _history())])
    assert fitted is not None and "s" in fitted.forecasts and fitted.failures == {}
