"""Decision sources: the LAPI stream over HTTP and the security store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from selfheal_ml.enforcement import StoreDecisionSource, StreamDecisionSource
from selfheal_ml.security.ban_policy import BanPolicy, BanSettings
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.storage import Database
from selfheal_ml.storage.security import SecurityStore

BANNED = "203.0.113.5"


async def test_the_stream_source_reads_the_lapi_answer_startup_first_then_deltas() -> None:
    asked: list[tuple[str, str | None]] = []
    answers = [
        {"new": [{"type": "ban", "scope": "Ip", "value": BANNED, "duration": "3h59m55.7s"}],
         "deleted": None},
        {"new": None, "deleted": [{"type": "ban", "scope": "Ip", "value": BANNED,
                                   "duration": "-1s"}]},
    ]  # fmt: skip

    def lapi(request: httpx.Request) -> httpx.Response:
        asked.append((request.url.params["startup"], request.headers.get("x-api-key")))
        return httpx.Response(200, content=json.dumps(answers[len(asked) - 1]))

    client = httpx.AsyncClient(transport=httpx.MockTransport(lapi))
    source = StreamDecisionSource("http://lapi", "k" * 32, client=client)
    first = await source.pull()
    second = await source.pull()
    await source.close()

    assert asked == [("true", "k" * 32), ("false", "k" * 32)]
    assert first.full and first.new == {BANNED: pytest.approx(14395.7)}
    assert not second.full and second.deleted == frozenset({BANNED}) and second.new == {}


async def test_the_store_source_gives_enforced_bans_with_their_time_left() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store = SecurityStore(Database(":memory:"))
    decisions = [
        BanPolicy(BanSettings(dry_run=dry)).decide(
            Finding(FindingKind.BRUTE_FORCE, Scope.IP, address, at, at, 5)
        )
        for address, dry in ((BANNED, False), ("203.0.113.6", True))
    ]
    store.append_decisions([d for d in decisions if d is not None])
    source = StoreDecisionSource(store, lambda: at + timedelta(seconds=100))

    update = await source.pull()

    assert update.full and update.new == {BANNED: 500.0}  # the dry-run ban is not enforced
