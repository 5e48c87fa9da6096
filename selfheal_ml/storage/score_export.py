"""What ``/metrics`` exports of the models' output: latest scores, forecasts, breach ETAs.

Three read-only queries over the tables the Predictive agent writes (``anomaly_scores``,
``forecasts``, ``breach_predictions``), bounded so a scrape stays cheap and the exported
cardinality stays fixed: scores of the named series, else of the ``top_n`` series with the
highest latest calibrated score in the last ``window_s``; forecasts and ETAs of those series
only.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.storage.database import Database
>>> export = ScoreExport(Database(":memory:"))
>>> export.latest_scores(datetime(2026, 1, 5, tzinfo=UTC), 3600.0, series=(), top_n=5)
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from selfheal_ml.storage.database import Database

#: The forecast columns exported, as (quantile label, column): the 95 % and 80 % bounds and
#: the mean (statsforecast's lo-95/lo-80/mean/hi-80/hi-95).
FORECAST_QUANTILES: tuple[tuple[str, str], ...] = (
    ("0.025", "lo_95"),
    ("0.1", "lo_80"),
    ("0.5", "mean"),
    ("0.9", "hi_80"),
    ("0.975", "hi_95"),
)


@dataclass(frozen=True)
class LatestScore:
    """The newest score of one series."""

    series: str
    score: float
    anomalous: bool
    ts: datetime


@dataclass(frozen=True)
class ForecastValue:
    """One forecast value: a series, a horizon in hours, a quantile."""

    series: str
    horizon_h: float
    quantile: str
    value: float


@dataclass(frozen=True)
class BreachEta:
    """The newest capacity-breach prediction of one series."""

    series: str
    eta_s: float
    probability: float
    limit: float


class ScoreExport:
    """The bounded queries behind the score and forecast metrics."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def latest_scores(
        self, now: datetime, window_s: float, *, series: Sequence[str], top_n: int
    ) -> list[LatestScore]:
        """The newest calibrated score of ``series`` (or of the ``top_n`` highest)."""
        since = now - timedelta(seconds=window_s)
        if not series and top_n <= 0:
            return []
        where = "ts >= ?" + (" AND list_contains(?, series)" if series else "")
        parameters: list[object] = [since, list(series)] if series else [since]
        limit = "" if series else f" ORDER BY score DESC, series LIMIT {int(top_n)}"
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT series, arg_max(calibrated, ts) AS score,"
                " arg_max(is_anomaly, ts), max(ts) FROM anomaly_scores"
                f" WHERE {where} GROUP BY series{limit}",
                parameters,
            ).fetchall()
        return [LatestScore(str(r[0]), float(r[1]), bool(r[2]), r[3]) for r in rows]

    def forecasts(self, series: Sequence[str], horizons_h: Sequence[float]) -> list[ForecastValue]:
        """For each series and horizon, the forecast step nearest to that many hours ahead."""
        if not series or not horizons_h:
            return []
        columns = ", ".join(column for _, column in FORECAST_QUANTILES)
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT series, epoch(ts - created_at) / 3600.0 AS ahead_h,"
                f" {columns} FROM forecasts WHERE list_contains(?, series)"
                " ORDER BY series, step",
                [list(series)],
            ).fetchall()
        steps: dict[str, list[tuple[float, tuple[float | None, ...]]]] = {}
        for row in rows:
            steps.setdefault(str(row[0]), []).append((float(row[1]), tuple(row[2:])))
        values: list[ForecastValue] = []
        for key, available in steps.items():
            for horizon in horizons_h:
                ahead, quantiles = min(available, key=lambda step: abs(step[0] - horizon))
                if abs(ahead - horizon) > max(0.5, 0.25 * horizon):
                    continue  # the forecast does not reach that far
                for (label, _), value in zip(FORECAST_QUANTILES, quantiles, strict=True):
                    if value is not None:
                        values.append(ForecastValue(key, float(horizon), label, float(value)))
        return values

    def breaches(self, series: Sequence[str], now: datetime) -> list[BreachEta]:
        """The newest breach prediction of each of ``series`` whose ETA is still ahead."""
        if not series:
            return []
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT series, arg_max(eta, predicted_at), arg_max(probability, predicted_at),"
                " arg_max(limit_value, predicted_at) FROM breach_predictions"
                " WHERE list_contains(?, series) GROUP BY series ORDER BY series",
                [list(series)],
            ).fetchall()
        return [
            BreachEta(str(r[0]), (r[1] - now).total_seconds(), float(r[2]), float(r[3]))
            for r in rows
            if r[1] > now
        ]
