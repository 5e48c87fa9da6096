"""Labelled datasets for the repair classifier, always in time order.

A :class:`Dataset` is the feature frame (columns :data:`FEATURE_NAMES`), the labels (the
strategy that worked) and each incident's opening time. Splits are by time, never shuffled:
the model is always scored on incidents that happened after the ones it learned from.

>>> from datetime import UTC, datetime, timedelta
>>> start = datetime(2026, 1, 5, tzinfo=UTC)
>>> data = Dataset.of([{}] * 10, ["a"] * 10, [start + timedelta(hours=h) for h in range(10)])
>>> fit, later = data.split(0.8)
>>> len(fit), len(later), fit.window[1] < later.window[0]
(8, 2, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from selfheal_ml.errors import ValidationError
from selfheal_ml.repair.features import feature_frame
from selfheal_ml.storage.incidents import HistoryIncident


@dataclass(frozen=True)
class Dataset:
    """Features, labels and opening times of labelled incidents, oldest first."""

    features: pd.DataFrame
    labels: tuple[str, ...]
    opened_at: tuple[datetime, ...]

    @classmethod
    def of(
        cls,
        rows: Sequence[Mapping[str, float]],
        labels: Sequence[str],
        opened_at: Sequence[datetime],
    ) -> Dataset:
        """Build from parallel sequences (sorted by time here)."""
        if not len(rows) == len(labels) == len(opened_at):
            raise ValidationError("labels", "expected as many rows, labels and times")
        order = sorted(range(len(rows)), key=lambda index: opened_at[index])
        frame = feature_frame([rows[index] for index in order])
        return cls(
            frame,
            tuple(str(labels[index]) for index in order),
            tuple(opened_at[index] for index in order),
        )

    @classmethod
    def from_history(cls, history: Sequence[HistoryIncident]) -> Dataset:
        """The labelled incidents of a history."""
        labelled = [item for item in history if item.resolved_by]
        return cls.of(
            [item.features for item in labelled],
            [str(item.resolved_by) for item in labelled],
            [item.opened_at for item in labelled],
        )

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        """First and last opening time."""
        if not self.opened_at:
            return None, None
        return self.opened_at[0], self.opened_at[-1]

    def split(self, fraction: float) -> tuple[Dataset, Dataset]:
        """The oldest ``fraction`` and the rest."""
        if not 0.0 < fraction < 1.0:
            raise ValidationError("fraction", f"expected 0 < fraction < 1, got {fraction!r}")
        cut = round(len(self) * fraction)
        return self._slice(0, cut), self._slice(cut, len(self))

    def _slice(self, start: int, stop: int) -> Dataset:
        return Dataset(
            self.features.iloc[start:stop].reset_index(drop=True),
            self.labels[start:stop],
            self.opened_at[start:stop],
        )
