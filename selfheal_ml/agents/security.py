"""The Security agent: log sources -> attack detector -> ban policy -> ``system.security``.

On each ``Tick(kind="security")`` it reads the records appended to its log sources, counts
them with the :class:`~selfheal_ml.security.detector.AttackDetector`, asks the
:class:`~selfheal_ml.security.ban_policy.BanPolicy` what to do with each finding, stores
findings and decisions, and publishes one :class:`SecurityThreatDetected` per finding
(``critical`` for confirmed attacks, which the AlertManager turns into a critical alert) and
one :class:`IpBlocked` per enforced ban, sharing the finding's correlation id. Dry-run
decisions ("would ban") are stored and reported, never announced as blocks. Each banned
address is then watched (:class:`~selfheal_ml.security.ban_watch.BanWatch`): once it has sent
nothing for ``quiet_s`` while its ban held, one :class:`AttackStopped` says the attack is over
(the Diagnostic agent resolves the attack's incident on it).

Every tick also closes a minute of the attack-rate series when one has passed
(:mod:`selfheal_ml.agents.attack_rate_series`): stored with the metrics and scored by the
Predictive agent like the platforms' own series, so it warns when an attack pattern comes back.

Applications that push events instead of writing logs hand records to :meth:`observe`.
On start the ban policy is restored from the store, so bans and repeat-offender counts
survive a restart. Ports (``context.extras``): ``security_sources``, ``security_detector``,
``ban_policy``, ``security_store`` (each optional), ``security_rates_window_s`` (60 s; 0: no
attack-rate series), ``store_every_s`` (how often stored points are written, as the Monitor)
and ``attack_quiet_s`` (120 s).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from selfheal_ml.agents.attack_rate_series import AttackRateSeries
from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.security_events import block_event, stopped_event, threat_event
from selfheal_ml.clock import run_blocking
from selfheal_ml.events import Event, Tick, new_id
from selfheal_ml.security.ban_policy import BanDecision, BanPolicy, DecisionAction
from selfheal_ml.security.ban_watch import QUIET_S, BanWatch
from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.findings import Finding
from selfheal_ml.security.records import LogRecord

TICK_KIND = "security"


class SecurityAgent(Agent):
    """Detects attacks in log records and bans their sources (module docstring)."""

    name: ClassVar[str] = "Security"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Tick,)

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.sources: list[Any] = list(extras.get("security_sources", ()))
        self.detector: AttackDetector = extras.get("security_detector") or AttackDetector()
        self.policy: BanPolicy = extras.get("ban_policy") or BanPolicy()
        self.store: Any = extras.get("security_store")
        self.seen: Counter[str] = Counter()
        self.watch = BanWatch(float(extras.get("attack_quiet_s", QUIET_S)))
        # ticks and pushed batches (the API) both count: one at a time through the detector
        self._counting = asyncio.Lock()
        rates = float(extras.get("security_rates_window_s", 60.0)) > 0
        self.rates = AttackRateSeries(context, self.name) if rates else None

    async def start(self) -> None:
        if self.store is not None:
            latest = await run_blocking(self.context.clock, self.store.latest_decisions)
            self.policy.restore(latest)
            self.log.info("ban policy restored: %d addresses with earlier bans", len(latest))

    async def stop(self) -> None:
        for source in self.sources:
            source.close()
        if self.rates is not None:
            await self.rates.flush()

    async def handle(self, event: Event) -> list[Event]:
        key = f"Tick:{event.kind}" if isinstance(event, Tick) else type(event).__name__
        self.seen[key] += 1
        if not isinstance(event, Tick) or event.kind != TICK_KIND or not self.sources:
            return []
        records = await run_blocking(self.context.clock, self._read_sources)
        produced = await self.observe(records)
        return produced + self._stopped(event.ts) + await self._rates(event.ts)

    async def observe(self, records: Sequence[LogRecord]) -> list[Event]:
        """Detect, decide, store; the events to publish."""
        if not records:
            return []
        async with self._counting:
            found = await run_blocking(self.context.clock, self._decide, records)
            self.watch.saw(records)
        if self.rates is not None:
            self.rates.add(records, sum(finding.confirmed_attack for finding in found[0]))
        return self._events(*found)

    def _stopped(self, now: datetime) -> list[Event]:
        """One :class:`AttackStopped` per banned address that went quiet (module docstring)."""
        quiet_s = self.watch.quiet_s
        return [stopped_event(q, now, self.name, quiet_s) for q in self.watch.quiet(now)]

    async def _rates(self, now: datetime) -> list[Event]:
        """The attack-rate points of a window that has just closed, stored and announced."""
        if self.rates is None:
            return []
        return await self.rates.close(now, sum(d.enforced for d in self.policy.active(now)))

    def _read_sources(self) -> list[LogRecord]:
        records: list[LogRecord] = []
        for source in self.sources:
            records.extend(source.read_records())
        records.sort(key=lambda record: record.time)  # the counters expect time order
        return records

    def _decide(
        self, records: Sequence[LogRecord]
    ) -> tuple[list[Finding], list[tuple[Finding, BanDecision]]]:
        now = self.context.clock.now()  # the request profiles never learn banned addresses
        self.detector.banned = lambda address: self.policy.is_banned(address, now)
        findings = self.detector.observe(records)
        decided = [(f, d) for f in findings if (d := self.policy.decide(f)) is not None]
        if self.store is not None:
            self.store.append_findings(findings)
            self.store.append_decisions([decision for _, decision in decided])
        return findings, decided

    def _events(
        self, findings: list[Finding], decided: list[tuple[Finding, BanDecision]]
    ) -> list[Event]:
        now = self.context.clock.now()
        correlation = {id(finding): new_id() for finding in findings}
        events: list[Event] = [
            threat_event(finding, now, self.name, correlation[id(finding)]) for finding in findings
        ]
        for finding, decision in decided:
            if decision.action is DecisionAction.BAN:
                correlation_id = correlation[id(finding)]
                self.watch.banned(
                    decision.value, now, decision.until, correlation_id=correlation_id
                )
                events.append(block_event(decision, now, self.name, correlation_id))
            else:
                why = decision.refusal.value if decision.refusal else "dry run"
                self.log.info("%s %s (%s): %s", decision.action.value, decision.value,
                              decision.reason.value, why)  # fmt: skip
        return events
