"""Replay a log through the parsers, the detector and the ban policy, on the log's own time.

What ``selfheal-ml security replay`` runs: every line is parsed, the records go to the
detector in order, each finding to the ban policy, and the report lists every decision and
every source that was seen but never (would-)banned, with what it did. Pure: the caller reads
the file and prints the report.

>>> from datetime import datetime, UTC
>>> lines = [f"Dec 10 07:13:4{i} h sshd[1]: Failed password for root from 192.0.2.7 port 2 ssh2"
...          for i in range(5)]
>>> lines.append("Dec 10 07:20:00 h sshd[2]: Accepted password for ann from 192.0.2.8 port 3 ssh2")
>>> report = replay_lines(lines, reference=datetime(2026, 12, 31, tzinfo=UTC))
>>> [(d.value, d.reason.value, d.event_count) for d in report.decisions]
[('192.0.2.7', 'brute_force', 5)]
>>> [s.source for s in report.unblocked]
['192.0.2.8']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from selfheal_ml.security.ban_policy import BanDecision, BanPolicy, DecisionAction
from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.findings import Finding
from selfheal_ml.security.formats import LogFormat, LogParser
from selfheal_ml.security.outcomes import ParseStats
from selfheal_ml.security.records import EventKind, LogRecord

BATCH = 1000


@dataclass
class SourceActivity:
    """What one address did in the replayed log."""

    source: str
    first_seen: datetime
    last_seen: datetime
    events: int = 0
    failed_logins: int = 0
    accepted_logins: int = 0
    requests: int = 0

    def add(self, record: LogRecord) -> None:
        """Count one record of this source."""
        self.events += record.occurrences
        self.last_seen = max(self.last_seen, record.time)
        if record.kind is EventKind.LOGIN_FAILED:
            self.failed_logins += record.occurrences
        elif record.kind is EventKind.LOGIN_OK:
            self.accepted_logins += 1
        elif record.kind is EventKind.REQUEST:
            self.requests += 1


@dataclass
class ReplayReport:
    """Decisions, findings and per-source activity of one replay."""

    log_format: LogFormat | None
    stats: ParseStats
    decisions: list[BanDecision] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sources: dict[str, SourceActivity] = field(default_factory=dict)

    @property
    def blocked(self) -> list[BanDecision]:
        """Decisions that (would) block: bans and dry-run bans, not refusals."""
        return [d for d in self.decisions if d.action is not DecisionAction.REFUSED]

    @property
    def unblocked(self) -> list[SourceActivity]:
        """Sources seen and never (would-)banned, most failed logins first."""
        blocked = {d.value for d in self.blocked}
        rest = [s for s in self.sources.values() if s.source not in blocked]
        return sorted(rest, key=lambda s: (-s.failed_logins, -s.events, s.source))

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "format": self.log_format.value if self.log_format else None,
            "lines": self.stats.as_dict(),
            "decisions": [decision_dict(d, self.sources) for d in self.decisions],
            "findings_not_banned": [
                {
                    "kind": f.kind.value,
                    "scope": f.scope.value,
                    "value": f.value,
                    "detected_at": f.detected_at.isoformat(),
                    "event_count": f.event_count,
                }
                for f in self.findings
                if f.scope.value != "ip"
            ],
            "unblocked": [
                {
                    "source": s.source,
                    "first_seen": s.first_seen.isoformat(),
                    "events": s.events,
                    "failed_logins": s.failed_logins,
                    "accepted_logins": s.accepted_logins,
                    "requests": s.requests,
                }
                for s in self.unblocked
            ],
        }


def decision_dict(decision: BanDecision, sources: dict[str, SourceActivity]) -> dict[str, Any]:
    """One decision as plain data; ``first_seen`` is the source's first line in the log."""
    activity = sources.get(decision.value)
    return {
        "source": decision.value,
        "action": decision.action.value,
        "reason": decision.reason.value,
        "refusal": decision.refusal.value if decision.refusal else None,
        "first_seen": (activity.first_seen if activity else decision.first_seen).isoformat(),
        "counted_from": decision.first_seen.isoformat(),
        "blocked_at": decision.decided_at.isoformat(),
        "until": decision.until.isoformat(),
        "duration_s": decision.duration_s,
        "offence": decision.offence,
        "event_count": decision.event_count,
        "evidence": list(decision.evidence),
    }


def _batches(records: Iterator[LogRecord]) -> Iterator[list[LogRecord]]:
    while batch := list(islice(records, BATCH)):
        yield batch


def replay_lines(
    lines: Iterable[str],
    *,
    reference: datetime,
    log_format: LogFormat = LogFormat.AUTO,
    detector: AttackDetector | None = None,
    policy: BanPolicy | None = None,
) -> ReplayReport:
    """Run ``lines`` through parser, detector and policy (module docstring)."""
    parser = LogParser(log_format, reference)
    detector = detector or AttackDetector()
    policy = policy or BanPolicy()
    report = ReplayReport(log_format=None, stats=parser.stats)
    for batch in _batches(parser.parse_lines(lines)):
        for record in batch:
            if record.source_ip and record.kind is not EventKind.AUTH_FAILURE:
                activity = report.sources.get(record.source_ip)
                if activity is None:
                    activity = report.sources[record.source_ip] = SourceActivity(
                        record.source_ip, record.time, record.time
                    )
                activity.add(record)
        for finding in detector.observe(batch):
            report.findings.append(finding)
            decision = policy.decide(finding)
            if decision is not None:
                report.decisions.append(decision)
    report.log_format = parser.detected
    return report
