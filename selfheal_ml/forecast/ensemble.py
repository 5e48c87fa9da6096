"""Per-series model selection and combination by a rolling-origin backtest.

No single model wins on every series: a smooth daily cycle suits MSTL, a weekday/weekend shape
suits a weekly profile, a noisy series suits a median profile or plain seasonal naive.
:class:`BacktestEnsemble` decides per series, on the training data only:

1. cut ``windows`` origins from the end of the history (each followed by
   ``backtest_horizon`` held-back steps) and forecast each cut with every member;
2. score every combination of up to ``max_combination`` members (the mean of their forecasts
   in the working space, i.e. a geometric mean when the series is positive) by its mean
   absolute backtest error, and keep the best;
3. refit the chosen members on the whole history; the forecast is their combination, and the
   prediction intervals are the empirical quantiles of the chosen combination's backtest
   residuals, pooled over all backtest steps and widened by ``interval_widen`` (the
   selection makes in-sample residuals optimistic), so the intervals say how wrong this very
   combination was on this very series.

When the history is too short for a backtest every member that fits is combined and the
intervals are the members' own, averaged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from selfheal_ml.errors import ValidationError
from selfheal_ml.forecast.base import FloatArray, Forecaster, ModelOutput
from selfheal_ml.forecast.decomposition import MSTLForecaster
from selfheal_ml.forecast.intervals import empirical_bounds, inverse_transform, transform, use_log
from selfheal_ml.forecast.naive import SeasonalNaive
from selfheal_ml.forecast.profile import SeasonalProfile

MemberFactory = Callable[[], Forecaster]
MIN_BACKTEST_STEPS = 6
MIN_TRAIN_STEPS = 48


def default_members() -> dict[str, MemberFactory]:
    """The candidate models of the default ensemble, by name."""
    return {
        "mstl_ses": MSTLForecaster,
        "mstl_damped": lambda: MSTLForecaster(trend=True, window=336),
        "profile_week": lambda: SeasonalProfile(period=168, cycles=3),
        "profile_day": lambda: SeasonalProfile(period=24, cycles=7, aggregate="median"),
        "seasonal_naive": SeasonalNaive,
    }


def best_combination(
    residuals: Mapping[str, FloatArray], max_combination: int
) -> tuple[tuple[str, ...], FloatArray]:
    """The member subset whose averaged residuals have the least mean absolute value.

    >>> residuals = {"a": np.array([[1.0, 1.0]]), "b": np.array([[-1.0, -0.5]])}
    >>> best_combination(residuals, 2)[0]
    ('a', 'b')
    """
    best: tuple[tuple[str, ...], FloatArray, float] | None = None
    for size in range(1, max_combination + 1):
        for names in itertools.combinations(sorted(residuals), size):
            combined = np.mean([residuals[name] for name in names], axis=0)
            error = float(np.mean(np.abs(combined)))
            if np.isfinite(error) and (best is None or error < best[2]):
                best = (names, combined, error)
    if best is None:
        raise ValueError("no member produced a finite backtest")
    return best[0], best[1]


class BacktestEnsemble(Forecaster):
    """Pick and combine members per series by a rolling-origin backtest on the training data.

    >>> hours = np.arange(24 * 28)
    >>> rng = np.random.default_rng(1)
    >>> y = 100 + 30 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 2, hours.size)
    >>> forecast = BacktestEnsemble().fit(y).forecast(24)
    >>> forecast.model.startswith("ensemble["), bool(np.abs(forecast.mean - y[-24:]).mean() < 5)
    (True, True)
    """

    name = "ensemble"
    min_length = 2

    def __init__(
        self,
        members: Mapping[str, MemberFactory] | None = None,
        windows: int = 2,
        backtest_horizon: int = 48,
        max_combination: int = 3,
        interval_widen: float = 1.0,
        log: bool | None = None,
    ) -> None:
        self.members = members
        self.windows = windows
        self.backtest_horizon = backtest_horizon
        self.max_combination = max_combination
        self.interval_widen = interval_widen
        self.log = log

    def _fit_values(self, values: FloatArray) -> None:
        for name in ("windows", "backtest_horizon", "max_combination"):
            if getattr(self, name) < 1:
                raise ValidationError(
                    name, f"expected a positive integer, got {getattr(self, name)!r}"
                )
        factories = dict(self.members) if self.members is not None else default_members()
        self.log_ = use_log(values, self.log)
        with threadpool_limits(1):  # BLAS threads only spin on these tiny fits
            self._select_and_fit(values, factories)

    def _select_and_fit(self, values: FloatArray, factories: Mapping[str, MemberFactory]) -> None:
        """Backtest the members, keep the best combination, refit it on all of ``values``."""
        steps = min(self.backtest_horizon, (values.size - MIN_TRAIN_STEPS) // self.windows)
        self.residuals_: FloatArray | None = None
        if steps >= MIN_BACKTEST_STEPS:
            backtest = self._backtest(values, factories, steps)
            self.selected_, self.residuals_ = best_combination(backtest, self.max_combination)
        else:
            self.selected_ = tuple(sorted(factories))
        self.fitted_ = {name: factories[name]().fit(values) for name in self.selected_}

    def _backtest(
        self, values: FloatArray, factories: Mapping[str, MemberFactory], steps: int
    ) -> dict[str, FloatArray]:
        """``(windows, steps)`` residual matrix (working space) for every member."""
        residuals = {name: np.full((self.windows, steps), np.nan) for name in factories}
        for window in range(self.windows):
            cut = values.size - (window + 1) * steps
            actual = transform(values[cut : cut + steps], self.log_)
            for name, factory in factories.items():
                forecast = factory().fit(values[:cut]).forecast(steps, levels=())
                residuals[name][window] = actual - transform(forecast.mean, self.log_)
        return residuals

    def _forecast_values(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        outputs = {
            name: model.forecast(horizon, levels=levels) for name, model in self.fitted_.items()
        }
        mean = np.mean([transform(out.mean, self.log_) for out in outputs.values()], axis=0)
        if self.residuals_ is not None:
            lower, upper = empirical_bounds(
                mean,
                self.residuals_,
                levels,
                self.interval_widen,
                min_steps=self.residuals_.shape[1],
            )
        else:
            lower = self._average_bounds([out.lower for out in outputs.values()], levels)
            upper = self._average_bounds([out.upper for out in outputs.values()], levels)
        fallbacks = [name for name, out in outputs.items() if out.fallback_used]
        return ModelOutput(
            mean=inverse_transform(mean, self.log_),
            lower={level: inverse_transform(bound, self.log_) for level, bound in lower.items()},
            upper={level: inverse_transform(bound, self.log_) for level, bound in upper.items()},
            model=f"{self.name}[{'+'.join(self.selected_)}]",
            fallback_used=bool(fallbacks),
            details={"members": self.selected_, "fallbacks": tuple(fallbacks)},
        )

    def _average_bounds(
        self, bounds: list[Mapping[int, FloatArray]], levels: tuple[int, ...]
    ) -> dict[int, FloatArray]:
        """Members' own bounds per level, averaged in the working space."""
        return {
            level: np.mean([transform(bound[level], self.log_) for bound in bounds], axis=0)
            for level in levels
        }
