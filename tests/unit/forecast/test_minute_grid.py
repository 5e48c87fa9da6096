"""The leak watch's minute grid: gaps held, rollups of a series and its traffic aligned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from selfheal_ml.forecast.minute_grid import held, store_minutes

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_gaps_hold_the_last_value_and_leading_gaps_stay() -> None:
    values = np.array([np.nan, 1.0, np.nan, np.nan, 4.0])
    np.testing.assert_array_equal(held(values), [np.nan, 1.0, 1.0, 1.0, 4.0])


def _frame(minutes: list[int], values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"ts": [T0 + timedelta(minutes=m) for m in minutes], "value": values})


def test_store_minutes_put_memory_and_summed_traffic_on_one_grid() -> None:
    frames = {
        "memory": _frame([0, 1, 3], [50.0, 51.0, 53.0]),  # minute 2 missing
        "requests_a": _frame([0, 1, 2, 3], [10.0, 10.0, 10.0, 10.0]),
        "requests_b": _frame([1, 3], [5.0, 5.0]),
    }
    memory, load = store_minutes(frames, "memory", ["requests_a", "requests_b", "absent"])
    np.testing.assert_array_equal(memory, [50.0, 51.0, np.nan, 53.0])
    np.testing.assert_array_equal(load, [10.0, 15.0, 10.0, 15.0])
    memory, load = store_minutes(frames, "memory", [])
    np.testing.assert_array_equal(load, [0.0, 0.0, 0.0, 0.0])
