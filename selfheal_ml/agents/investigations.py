"""The Diagnostic agent's investigations: the investigators its top candidates call for.

An :class:`~selfheal_ml.diagnosis.investigation.Investigator` looks at the live system (which
table lacks which index) for one strategy's fix. It may be slow or fail: each one runs under
:data:`INVESTIGATION_TIMEOUT_S`, and a failure costs only its own finding, never the diagnosis.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from selfheal_ml.diagnosis.investigation import Finding, Investigator
from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.diagnosis.root_cause import Candidate

INVESTIGATION_TIMEOUT_S = 15.0


@dataclass
class Investigations:
    """Runs the investigators whose strategy is one of the given candidates' fixes."""

    investigators: Sequence[Investigator]
    log: logging.Logger
    timeout_s: float = INVESTIGATION_TIMEOUT_S

    async def findings(
        self, candidates: Sequence[Candidate], observations: Sequence[Observation]
    ) -> dict[str, Finding]:
        """Findings by strategy from the investigators the candidates call for."""
        wanted = {fix for candidate in candidates for fix in candidate.fixes}
        findings: dict[str, Finding] = {}
        for investigator in self.investigators:
            if investigator.strategy not in wanted:
                continue
            try:
                found = await asyncio.wait_for(
                    investigator.investigate(observations), self.timeout_s
                )
            except Exception as error:  # an investigation must not stop the diagnosis
                self.log.warning("investigator for %s failed: %s", investigator.strategy, error)
                continue
            if found is not None:
                findings[investigator.strategy] = found
        return findings
