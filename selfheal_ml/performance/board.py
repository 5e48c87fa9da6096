"""The current findings per watched target, as the API shows them.

The Performance agent replaces a target's findings after each round; the API reads them. A
finding is *new* when its :attr:`~selfheal_ml.performance.Finding.key` was not on the board
for that target: only new findings become events, so a problem that stays is announced once.

>>> from selfheal_ml.performance.findings import Finding
>>> board = FindingBoard()
>>> slow = Finding(kind="slow_query", fingerprint="f1")
>>> [f.kind for f in board.replace("db", [slow])], board.replace("db", [slow])
(['slow_query'], [])
>>> [(target, f.kind) for target, f in board.current()]
[('db', 'slow_query')]
"""

from __future__ import annotations

from collections.abc import Sequence

from selfheal_ml.performance.findings import Finding


class FindingBoard:
    """Findings by target; :meth:`replace` returns those not on the board before."""

    def __init__(self) -> None:
        self._findings: dict[str, list[Finding]] = {}

    def replace(self, target: str, findings: Sequence[Finding]) -> list[Finding]:
        """Make ``findings`` the target's current ones; return the new ones."""
        before = {finding.key for finding in self._findings.get(target, [])}
        self._findings[target] = list(findings)
        return [finding for finding in findings if finding.key not in before]

    def current(self) -> list[tuple[str, Finding]]:
        """``(target, finding)`` pairs, by target name."""
        return [
            (target, finding)
            for target in sorted(self._findings)
            for finding in self._findings[target]
        ]
