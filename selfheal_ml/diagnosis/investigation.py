"""Investigators: targeted look-ups that turn a probable cause into the parameters of its fix.

A root-cause ranking says *what* is wrong (a slow query on the database); the fix needs
*where* (which table, which column). An :class:`Investigator` is asked by the Diagnostic agent
when one of the top candidates' fixes is its ``strategy``; it looks at the live system (e.g.
samples the database's running queries and explains the slowest) and returns a
:class:`Finding`: a sentence for the person reading the incident and the executor parameters
for the fix (``details["action_params"][strategy]``). It may return ``None`` (nothing found),
and must not raise for expected failures; the agent bounds it with a timeout anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from selfheal_ml.diagnosis.observations import Observation


@dataclass(frozen=True)
class Finding:
    """What an investigation found: a sentence and the fix's parameters."""

    summary: str
    params: Mapping[str, Any] = field(default_factory=dict)


class Investigator(Protocol):
    """Finds the parameters of one strategy's fix (see module doc)."""

    @property
    def strategy(self) -> str:
        """The strategy whose parameters it finds, e.g. ``"add_index"``."""
        ...

    async def investigate(self, observations: Sequence[Observation]) -> Finding | None:
        """Look at the live system; ``None`` when there is nothing to report."""
        ...
