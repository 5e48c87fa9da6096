"""The grid the default detector's structure and global parameters are selected from.

Each candidate is a full product configuration: ensemble settings (which components, their
global parameters) plus the scoring stages' config (the escalation gate's window).
``pipelines/evaluate_nab.py --grid --cross-validate`` runs every candidate over a corpus,
*selects* the one with the best held-out (leave-one-category-out) score, and estimates with an
outer leave-one-category-out loop what that selection scores on a category it never saw
(:mod:`selfheal_ml.evaluation.model_selection`); the model card records both figures.

Structural choices: the adaptive-resonance component on/off, the conformal nearest-neighbour
component on/off, the weekly profile on/off, the plain maximum or the evidence-weighted choice
among components. Global parameters: the calibrators' clip {off, 8} (what one burst may do to
the calibration, :class:`~selfheal_ml.anomaly.calibration.LikelihoodCalibrator`) and the gate
window {200, 400} points. The calibration window (2 000) and the components' own parameters
were not re-selected: they are the former default's (see the model card).

>>> len(TUNING_GRID), "grid-a1-n0-w1-k0-g400-e0" in TUNING_GRID
(34, True)
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


def candidate_name(settings: EnsembleSettings, gate: int) -> str:
    """The grid's name for a configuration (each choice spelled out)."""
    return (
        f"grid-a{int(settings.resonance)}-n{int(settings.neighbours)}-w{int(settings.weekly)}"
        f"-k{settings.calibration_clip or 0:g}-g{gate}-e{settings.evidence_penalty:g}"
    )


def _grid() -> dict[str, Candidate]:
    candidates = {}
    for resonance, neighbours, weekly, clip, gate in itertools.product(
        (False, True), (False, True), (False, True), (None, 8.0), (200, 400)
    ):
        settings = EnsembleSettings(
            resonance=resonance, neighbours=neighbours, weekly=weekly, calibration_clip=clip
        )
        candidates[candidate_name(settings, gate)] = Candidate(
            settings, ScoringConfig(gate_points=gate)
        )
    for resonance in (False, True):
        settings = EnsembleSettings(resonance=resonance, evidence_penalty=0.1, evidence_level=8.0)
        candidates[candidate_name(settings, 400)] = Candidate(settings, ScoringConfig())
    return candidates


TUNING_GRID: Final[Mapping[str, Candidate]] = MappingProxyType(_grid())
"""Resonance x neighbours x weekly x calibration clip x gate window, plus evidence weighting."""
