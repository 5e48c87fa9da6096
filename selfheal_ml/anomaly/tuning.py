"""The grid the default ensemble's global parameters were chosen from, for reproducible tuning.

Each candidate is a full product configuration: ensemble settings plus the scoring stages'
config (the escalation gate's window). ``pipelines/evaluate_nab.py --grid --cross-validate``
runs every candidate over a corpus and estimates, leaving one category out, how well *choosing*
among them generalises; the model card records the outcome.

>>> len(TUNING_GRID), "grid-w1-s0.25-c4000-g200" in TUNING_GRID
(16, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from selfheal_ml.anomaly.registry import EnsembleSettings
from selfheal_ml.anomaly.scoring import ScoringConfig


@dataclass(frozen=True)
class Candidate:
    """One configuration of the default ensemble and its scoring stages."""

    settings: EnsembleSettings
    scoring: ScoringConfig


def _grid() -> dict[str, Candidate]:
    candidates = {}
    for weekly, smoothing, window, gate in itertools.product(
        (False, True), (0.5, 0.25), (2000, 4000), (200, 400)
    ):
        name = f"grid-w{int(weekly)}-s{smoothing}-c{window}-g{gate}"
        settings = EnsembleSettings(
            weekly=weekly, profile_smoothing=smoothing, calibration_window=window
        )
        candidates[name] = Candidate(settings, ScoringConfig(gate_points=gate))
    return candidates


TUNING_GRID: Final[Mapping[str, Candidate]] = MappingProxyType(_grid())
"""Weekly profile on/off x profile smoothing (per visit) x calibration window x gate window."""
