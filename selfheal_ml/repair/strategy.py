"""The repair plan: which strategies to try for a diagnosed incident, in the original order.

1. **A learned pattern with a good record**: playbook entries of the incident's signature with
   at least ``playbook_min_attempts`` verified attempts and a Wilson lower bound of at least
   ``playbook_min_lower`` (best first).
2. **The classifier's recommendation**, when a champion model answered above its confidence
   floor (strategies with probability at least ``classifier_min_probability``). When the
   diagnosis is confident, only the classifier's strategies that fix one of the causes the
   runbook would try: it may reorder the known fixes, not replace them with one for a cause
   nobody diagnosed (on the chaos benchmark it once sent ``reindex`` to a stuck cache).
3. **The known solution**: the fix of the top root-cause candidate, then the fixes of the other
   candidates scoring at least half as well, then those of the other causes of the top
   candidate's component (:class:`RunbookCandidate`). Only when the diagnosis is
   confident enough (``min_confidence``); a guess is not a reason to touch production.
4. Otherwise: **escalate to a human** (an empty plan).

Duplicates are dropped. **Least risk first**: a high-risk strategy (``high_risk``, e.g. a
restore from backup) stays on the plan only when it is the known fix of the top candidate: a
learned pattern or the classifier alone is no reason to take the database away when a
low-risk fix is known. The plan holds at most ``max_attempts`` steps.

>>> from selfheal_ml.repair.recommend import RankedStrategy
>>> policy = PlanPolicy(high_risk=frozenset({"restore_from_backup", "add_index"}))
>>> risky = Recommendation(
...     (RankedStrategy("restore_from_backup", 0.7), RankedStrategy("reset_db_connections", 0.3)),
...     "3", fallback=False, needs_human_confirmation=False, reason="",
... )
>>> plan = plan_repair([], risky, [("db_unreachable", "reset_db_connections", 0.9)], 0.8, policy)
>>> [step.strategy for step in plan]
['reset_db_connections']
>>> plan = plan_repair([], risky, [("slow_query", "add_index", 0.9)], 0.8, policy)
>>> [step.strategy for step in plan]
['add_index']
>>> plan = plan_repair([], risky, [("slow_query", "add_index", 0.9)], 0.1, policy)
>>> [step.strategy for step in plan]
['reset_db_connections']

>>> from selfheal_ml.repair.playbook import PlaybookEntry
>>> plan = plan_repair(
...     playbook=[PlaybookEntry("sig", "clear_cache", attempts=9, successes=9)],
...     classifier=None,
...     candidates=[("stuck_cache", "clear_cache", 0.9), ("slow_query", "add_index", 0.5)],
...     confidence=0.6,
... )
>>> [(step.strategy, step.source) for step in plan]
[('clear_cache', 'playbook'), ('add_index', 'runbook')]
>>> plan_repair([], None, [("slow_query", "add_index", 0.9)], confidence=0.1)
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from selfheal_ml.repair.playbook import PlaybookEntry, rank_playbook
from selfheal_ml.repair.recommend import Recommendation

StepSource = Literal["playbook", "classifier", "runbook"]


@dataclass(frozen=True)
class PlanPolicy:
    """The numbers of the plan (see the module docstring)."""

    playbook_min_attempts: int = 3
    playbook_min_lower: float = 0.5
    classifier_min_probability: float = 0.2
    min_confidence: float = 0.25
    max_attempts: int = 3
    high_risk: frozenset[str] = frozenset()


class RunbookCandidate(NamedTuple):
    """A root-cause candidate as the runbook reads it: its ``cause`` (shown in the step's
    reason), a ``strategy`` that fixes it, its ``score``, and the ``component`` it is on
    (empty when not known: the candidate then has no component to share)."""

    cause: str
    strategy: str
    score: float
    component: str = ""


#: What :func:`plan_repair` takes: candidates, or plain ``(cause, strategy, score)`` tuples.
Candidates = Sequence[RunbookCandidate | tuple[str, str, float]]


@dataclass(frozen=True)
class PlannedStep:
    """One strategy to try and why it is on the plan."""

    strategy: str
    source: StepSource
    reason: str


def plan_repair(
    playbook: Sequence[PlaybookEntry],
    classifier: Recommendation | None,
    candidates: Candidates,
    confidence: float,
    policy: PlanPolicy | None = None,
) -> list[PlannedStep]:
    """The ordered plan; ``candidates`` best first."""
    policy = policy or PlanPolicy()
    causes = [RunbookCandidate(*candidate) for candidate in candidates]
    steps: list[PlannedStep] = []
    for entry in rank_playbook(playbook):
        lower = entry.interval[0]
        if entry.attempts >= policy.playbook_min_attempts and lower >= policy.playbook_min_lower:
            steps.append(
                PlannedStep(
                    entry.strategy,
                    "playbook",
                    f"worked {entry.successes}/{entry.attempts} times for this signature"
                    f" (95 % lower bound {lower:.2f})",
                )
            )
    confident = bool(causes) and confidence >= policy.min_confidence
    runbook = _runbook(causes) if confident else []
    plausible = {candidate.strategy for candidate in runbook}
    if classifier is not None and not classifier.fallback:
        for ranked in classifier.strategies:
            if confident and ranked.strategy not in plausible:
                continue
            if ranked.probability >= policy.classifier_min_probability:
                steps.append(
                    PlannedStep(
                        ranked.strategy,
                        "classifier",
                        f"model {classifier.model_version}: p={ranked.probability:.2f}",
                    )
                )
    for item in runbook:
        reason = f"known fix for {item.cause} (score {item.score:.2f})"
        steps.append(PlannedStep(item.strategy, "runbook", reason))
    known_fix = causes[0].strategy if confident else None
    return _least_risk_first(steps, known_fix, policy)


def _runbook(candidates: Sequence[RunbookCandidate]) -> list[RunbookCandidate]:
    """The candidates scoring at least half as well as the best, in order, then the other
    causes of the best one's component: when a bad push's rollback
    does not end the errors, the platform's crash is what is left. Held-out seed 7018
    (01-06 17:22) and dev seed 7014 (01-08 03:04): a crash just after a benign change was
    read as a bad push (crash 0.3 against 1.03), the rollback failed, and with nothing else
    on the plan the case escalated while the platform stayed down.

    >>> ranked = [RunbookCandidate("bad_config_push", "rollback_config", 1.03, "a"),
    ...           RunbookCandidate("slow_query", "reindex", 0.4, "db"),
    ...           RunbookCandidate("service_crash", "restart_service", 0.3, "a")]
    >>> [candidate.strategy for candidate in _runbook(ranked)]
    ['rollback_config', 'restart_service']
    """
    best = candidates[0]
    strong = [candidate for candidate in candidates if candidate.score >= 0.5 * best.score]
    same = [
        candidate
        for candidate in candidates
        if best.component and candidate not in strong and candidate.component == best.component
    ]
    return strong + same


def _least_risk_first(
    steps: Sequence[PlannedStep], known_fix: str | None, policy: PlanPolicy
) -> list[PlannedStep]:
    """Unique steps in order, high-risk ones only as the top candidate's known fix."""
    plan: list[PlannedStep] = []
    for step in steps:
        risky = step.strategy in policy.high_risk
        if risky and step.strategy != known_fix:
            continue
        if all(step.strategy != kept.strategy for kept in plan):
            plan.append(step)
    return plan[: policy.max_attempts]
