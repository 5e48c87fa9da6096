"""The forecaster contract: scikit-learn lifecycle in, statsforecast-style forecast out.

A :class:`Forecaster` stores its parameters verbatim in ``__init__``, validates them and the
data in :meth:`Forecaster.fit` (which returns ``self``) and keeps what it learned in attributes
ending in ``_``. :meth:`Forecaster.forecast` returns a :class:`Forecast`: the future ``index``
(continuing the input's), the point ``mean`` and, per confidence level, ``lower`` and
``upper`` bounds. Calling ``forecast`` before ``fit`` raises :class:`NotFittedError`.

``y`` is a pandas Series with a regular, timezone-aware (UTC) DatetimeIndex, or a 1-D numpy
array (then the future index is a RangeIndex that continues ``0..n-1``). Values must be finite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from selfheal_ml.errors import NotFittedError, ValidationError

FloatArray = NDArray[np.float64]
DEFAULT_LEVELS: tuple[int, ...] = (80, 95)


@dataclass(frozen=True)
class Forecast:
    """A forecast: future index, point mean and nested prediction intervals per level.

    ``model`` names the model that produced the numbers (for an ensemble, the members it
    combined) and ``fallback_used`` says the seasonal-naive fallback took over.
    """

    index: pd.Index
    mean: FloatArray
    lower: Mapping[int, FloatArray]
    upper: Mapping[int, FloatArray]
    model: str
    fallback_used: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        """Number of forecast steps."""
        return int(self.mean.size)

    def to_frame(self) -> pd.DataFrame:
        """statsforecast layout: columns ``mean``, ``lo-80``, ``hi-80``, ``lo-95``...

        >>> import numpy as np, pandas as pd
        >>> one = np.array([1.0])
        >>> Forecast(pd.RangeIndex(3, 4), one, {80: one - 1}, {80: one + 1}, "x").to_frame()
           mean  lo-80  hi-80
        3   1.0    0.0    2.0
        """
        columns: dict[str, FloatArray] = {"mean": self.mean}
        for level in sorted(self.lower):
            columns[f"lo-{level}"] = self.lower[level]
            columns[f"hi-{level}"] = self.upper[level]
        return pd.DataFrame(columns, index=self.index)


@dataclass(frozen=True)
class ModelOutput:
    """What a model computes before the base class attaches the index and orders bounds."""

    mean: FloatArray
    lower: Mapping[int, FloatArray]
    upper: Mapping[int, FloatArray]
    model: str
    fallback_used: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesInput:
    """Validated training data: the values and what is needed to continue the index."""

    values: FloatArray
    last_timestamp: pd.Timestamp | None
    step: pd.Timedelta | None


def validate_series(y: pd.Series | NDArray[Any], min_length: int = 2) -> SeriesInput:
    """Check ``y`` (finite values, regular UTC index, long enough) and unpack it.

    >>> validate_series(np.array([1.0, 2.0, 3.0])).values.tolist()
    [1.0, 2.0, 3.0]
    """
    if isinstance(y, pd.Series):
        values = y.to_numpy(dtype=np.float64)
        last, step = _regular_index(y.index)
    else:
        values, last, step = np.asarray(y, dtype=np.float64), None, None
    if values.ndim != 1:
        raise ValidationError("y", f"expected a 1-D series, got shape {values.shape}")
    if values.size < min_length:
        raise ValidationError(
            "y", f"too short: needs at least {min_length} values, got {values.size}"
        )
    if not np.all(np.isfinite(values)):
        raise ValidationError("y", "contains NaN or infinite values")
    return SeriesInput(values=values, last_timestamp=last, step=step)


def _regular_index(index: pd.Index) -> tuple[pd.Timestamp | None, pd.Timedelta | None]:
    if isinstance(index, pd.RangeIndex) and index.step == 1 and index.start == 0:
        return None, None
    if not isinstance(index, pd.DatetimeIndex):
        raise ValidationError("y", f"expected a DatetimeIndex, got {type(index).__name__}")
    if index.tz is None or str(index.tz) != "UTC":
        raise ValidationError("y", f"expected a UTC DatetimeIndex, got tz={index.tz}")
    if index.size < 2:
        raise ValidationError("y", "a DatetimeIndex needs at least two timestamps")
    steps = np.diff(index) if index.size > 1 else np.array([])
    if steps[0] <= pd.Timedelta(0) or np.any(steps != steps[0]):
        raise ValidationError("y", "irregular index: timestamps are not equally spaced")
    return index[-1], pd.Timedelta(steps[0])


def validate_horizon(horizon: int) -> int:
    """A positive integer number of steps, else ValidationError naming ``horizon``."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValidationError("horizon", f"expected a positive integer, got {horizon!r}")
    return int(horizon)


def validate_levels(levels: Iterable[int]) -> tuple[int, ...]:
    """Confidence levels in percent, each in 1..99, returned sorted and de-duplicated."""
    checked = tuple(sorted(set(levels)))
    if any(isinstance(level, bool) or not 0 < level < 100 for level in checked):
        raise ValidationError("levels", f"expected percentages in 1..99, got {checked!r}")
    return checked


def future_index(data: SeriesInput, horizon: int) -> pd.Index:
    """The ``horizon`` steps after the training data, in the same index type."""
    if data.last_timestamp is None or data.step is None:
        return pd.RangeIndex(data.values.size, data.values.size + horizon)
    return pd.date_range(data.last_timestamp + data.step, periods=horizon, freq=data.step)


class Forecaster(ABC):
    """Base class: ``fit(y) -> self`` then ``forecast(horizon, levels) -> Forecast``."""

    name: str = "forecaster"
    min_length: int = 2

    def fit(self, y: pd.Series | NDArray[Any]) -> Self:
        """Validate ``y`` and learn from it; returns ``self``."""
        self.data_ = validate_series(y, self.min_length)
        self._fit_values(self.data_.values)
        return self

    def forecast(self, horizon: int, levels: Iterable[int] = DEFAULT_LEVELS) -> Forecast:
        """Forecast ``horizon`` steps after the training data with intervals at ``levels``."""
        if not hasattr(self, "data_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(y) first")
        steps = validate_horizon(horizon)
        checked_levels = validate_levels(levels)
        forecast = self._forecast_values(steps, checked_levels)
        return ordered_intervals(forecast, future_index(self.data_, steps))

    @abstractmethod
    def _fit_values(self, values: FloatArray) -> None:
        """Learn from validated values (the index is handled by the base class)."""

    @abstractmethod
    def _forecast_values(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        """Forecast from the learned state; the base class sets the index afterwards."""

    def __repr__(self) -> str:
        params = ", ".join(
            f"{key}={value!r}" for key, value in vars(self).items() if not key.endswith("_")
        )
        return f"{type(self).__name__}({params})"


def ordered_intervals(forecast: ModelOutput, index: pd.Index) -> Forecast:
    """Enforce ``lower <= mean <= upper`` and nesting (wider level contains narrower).

    Empirical quantiles can sit on one side of the mean; this clamps them and makes every
    level's interval contain all narrower ones.
    """
    lower: dict[int, FloatArray] = {}
    upper: dict[int, FloatArray] = {}
    inner_low, inner_high = forecast.mean, forecast.mean
    for level in sorted(forecast.lower):
        inner_low = np.minimum(forecast.lower[level], inner_low)
        inner_high = np.maximum(forecast.upper[level], inner_high)
        lower[level], upper[level] = inner_low, inner_high
    return Forecast(
        index=index,
        mean=forecast.mean,
        lower=lower,
        upper=upper,
        model=forecast.model,
        fallback_used=forecast.fallback_used,
        details=forecast.details,
    )
