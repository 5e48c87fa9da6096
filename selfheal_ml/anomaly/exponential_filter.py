"""An exponentially weighted moving average over a whole array at once, in numpy.

``ewma(values, rate, start)[k] = (1 - rate) * ewma[k - 1] + rate * values[k]``, with
``ewma[-1] = start``: what ``scipy.signal.lfilter([rate], [1, rate - 1], values,
zi=[(1 - rate) * start])`` returns. The seasonal profile's batch learning
(:meth:`~.seasonal_profile.SeasonalResidual.learn_many`) ran that ``lfilter``, and importing
``scipy.signal`` for it cost the service process about 70 MB of RSS.

The recursion has a closed form: with ``d = 1 - rate``,
``ewma[k] = d ** (k + 1) * (start + rate * sum(values[j] / d ** (j + 1) for j <= k))``, one
``cumsum``. ``1 / d ** (j + 1)`` grows without bound, so the array is cut into blocks over
which it stays below ``1e150`` (each block starts from the last value of the one before):
then the sum's rounding error, scaled back by ``d ** (k + 1)``, is a few ulps of the values.

>>> exponential_filter(np.array([1.0, 1.0, 3.0]), 0.5, 0.0).round(6).tolist()
[0.5, 0.75, 1.875]
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

_MAX_GROWTH = 150 * math.log(10.0)  # a block's largest 1 / d ** (j + 1) is below 1e150


def exponential_filter(
    values: npt.NDArray[np.float64], rate: float, start: float
) -> npt.NDArray[np.float64]:
    """The EWMA of ``values`` at ``rate`` (in ``[0, 1]``) starting from ``start``."""
    decay = 1.0 - rate
    if decay >= 1.0:  # rate 0: nothing is learned
        return np.full(values.size, start, dtype=np.float64)
    if decay <= 0.0:  # rate 1: each value replaces the last
        return np.array(values, dtype=np.float64)
    filtered = np.empty(values.size, dtype=np.float64)
    log_decay = math.log(decay)
    block = max(1, int(_MAX_GROWTH / -log_decay))
    previous = start
    for begin in range(0, values.size, block):
        part = values[begin : begin + block]
        powers = np.exp(np.arange(1, part.size + 1) * log_decay)
        filtered[begin : begin + part.size] = powers * (previous + rate * np.cumsum(part / powers))
        previous = float(filtered[begin + part.size - 1])
    return filtered
