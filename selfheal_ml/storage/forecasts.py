"""The forecast cache and the record of capacity-breach predictions, in DuckDB.

One forecast per series is kept (the newest replaces the previous one), with the 80 % and
95 % interval bounds per step, so the API can answer from here without fitting anything.
Loaded forecasts are cached (:class:`~selfheal_ml.storage.read_cache.ReadCache`) until this
store saves that series again: the route's query and pandas conversion per request capped it
at 125-150 requests/s. Readers must not modify a loaded forecast's frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from selfheal_ml.storage.database import Database
from selfheal_ml.storage.read_cache import ReadCache

if TYPE_CHECKING:  # imported by the functions that use them: the API reads without them
    import pandas as pd

LEVELS = (80, 95)


@dataclass(frozen=True)
class CachedForecast:
    """A stored forecast: one row per step."""

    series: str
    created_at: datetime
    model: str
    fallback_used: bool
    frame: pd.DataFrame  # step, ts, mean, lo_80, hi_80, lo_95, hi_95


class ForecastStore:
    """Reads and writes the forecast cache."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._loaded: ReadCache[str, CachedForecast | None] = ReadCache(max_entries=4096)
        self._names: ReadCache[str, list[str]] = ReadCache(max_entries=1)

    def save(
        self,
        series: str,
        created_at: datetime,
        model: str,
        fallback_used: bool,
        frame: pd.DataFrame,
    ) -> None:
        """Replace the cached forecast of ``series`` (``frame`` as in :class:`CachedForecast`)."""
        rows = frame.assign(
            series=series, created_at=created_at, model=model, fallback_used=fallback_used
        )[["series", "created_at", "model", "fallback_used", "step", "ts", "mean",
           "lo_80", "hi_80", "lo_95", "hi_95"]]  # fmt: skip
        with self.database.transaction() as conn:
            conn.execute("DELETE FROM forecasts WHERE series = ?", [series])
            conn.register("forecast_rows", rows)
            conn.execute("INSERT INTO forecasts SELECT * FROM forecast_rows")
            conn.unregister("forecast_rows")
        self._loaded.invalidate(series)
        self._names.invalidate()

    def load(self, series: str) -> CachedForecast | None:
        """The cached forecast of ``series``, if any (from memory until it is saved again)."""
        return self._loaded.get(series, self._load)

    def _load(self, series: str) -> CachedForecast | None:
        import pandas as pd

        with self.database.read() as conn:
            frame = conn.execute(
                "SELECT created_at, model, fallback_used, step, ts, mean, lo_80, hi_80, lo_95,"
                " hi_95 FROM forecasts WHERE series = ? ORDER BY step",
                [series],
            ).df()
        if frame.empty:
            return None
        first = frame.iloc[0]
        return CachedForecast(
            series=series,
            created_at=pd.Timestamp(first["created_at"]).to_pydatetime(),
            model=str(first["model"]),
            fallback_used=bool(first["fallback_used"]),
            frame=frame.drop(columns=["created_at", "model", "fallback_used"]),
        )

    def series(self) -> list[str]:
        """Series with a cached forecast."""
        return list(self._names.get("all", self._series))

    def _series(self, _: str) -> list[str]:
        with self.database.read() as conn:
            rows = conn.execute("SELECT DISTINCT series FROM forecasts ORDER BY 1").fetchall()
        return [str(row[0]) for row in rows]

    def record_breach(
        self,
        series: str,
        predicted_at: datetime,
        limit: float,
        eta: datetime,
        probability: float,
        slope_per_hour: float,
    ) -> None:
        """Keep a record of a raised capacity prediction."""
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT INTO breach_predictions VALUES (?, ?, ?, ?, ?, ?)",
                [series, predicted_at, limit, eta, probability, slope_per_hour],
            )
