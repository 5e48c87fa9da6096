"""The replay report as text a person reads: decisions, then sources seen and not blocked."""

from __future__ import annotations

from datetime import datetime

from selfheal_ml.security.findings import Scope
from selfheal_ml.security.replay import ReplayReport


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def render_text(report: ReplayReport, *, unblocked_limit: int = 30) -> str:
    """The report as aligned columns (``unblocked_limit`` caps the second table)."""
    stats = report.stats
    fmt = report.log_format.value if report.log_format else "unknown"
    out = [
        f"format {fmt}: {stats.lines} lines, {stats.records} records,"
        f" {stats.ignored} ignored, {stats.malformed} malformed",
        "",
        f"decisions ({len(report.decisions)}):",
        f"{'source':<16} {'action':<9} {'reason':<24} {'first seen':<19} {'blocked at':<19}"
        f" {'ban':>7} {'offence':>7} {'events':>6}",
    ]
    for decision in report.decisions:
        activity = report.sources.get(decision.value)
        first_seen = activity.first_seen if activity else decision.first_seen
        action = decision.refusal.value if decision.refusal else decision.action.value
        out.append(
            f"{decision.value:<16} {action:<9} {decision.reason.value:<24} {_time(first_seen)}"
            f" {_time(decision.decided_at)} {decision.duration_s:>6.0f}s {decision.offence:>7}"
            f" {decision.event_count:>6}"
        )
    others = [f for f in report.findings if f.scope is not Scope.IP]
    if others:
        out += ["", f"findings about accounts and API keys (alerts, not bans) ({len(others)}):"]
        out += [
            f"{f.scope.value}={f.value} {f.kind.value} at {_time(f.detected_at)}"
            f" ({f.event_count} events)"
            for f in others
        ]
    unblocked = report.unblocked
    out += [
        "",
        f"seen, not blocked ({len(unblocked)} sources):",
        f"{'source':<40} {'first seen':<19} {'failed':>6} {'accepted':>8} {'requests':>8}"
        f" {'events':>6}",
    ]
    for source in unblocked[:unblocked_limit]:
        out.append(
            f"{source.source:<40} {_time(source.first_seen)} {source.failed_logins:>6}"
            f" {source.accepted_logins:>8} {source.requests:>8} {source.events:>6}"
        )
    if len(unblocked) > unblocked_limit:
        out.append(f"... and {len(unblocked) - unblocked_limit} more (--json lists all)")
    return "\n".join(out)
