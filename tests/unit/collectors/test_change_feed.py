"""ChangeFeed: the last good answer is kept through failures, and a failure is logged once."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from selfheal_ml.collectors.change_feed import ChangeFeed


def _change(change_id: str, ts: str) -> dict[str, str]:
    return {"change_id": change_id, "ts": ts, "platform": "a", "description": "push"}


def test_a_failing_feed_keeps_its_changes_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    answers = [
        httpx.Response(200, json={"changes": [_change("c1", "2026-01-05T10:00:00+00:00")]}),
        httpx.Response(503),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"changes": [_change("c2", "2026-01-05T11:00:00+00:00")]}),
    ]
    feed = ChangeFeed("http://sim.test/sim/config-changes",
                      transport=httpx.MockTransport(lambda request: answers.pop(0)))  # fmt: skip
    seen: list[list[str]] = []

    async def poll() -> None:
        for _ in range(4):
            await feed.refresh()
            seen.append([change.change_id for change in feed.changes()])

    with caplog.at_level(logging.INFO, logger="selfheal_ml.collectors.change_feed"):
        asyncio.run(poll())
    assert seen == [["c1"], ["c1"], ["c1"], ["c2"]]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "503" in warnings[0].getMessage()
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_changes_older_than_a_day_behind_the_newest_are_dropped() -> None:
    body = {"changes": [_change("old", "2026-01-03T00:00:00+00:00"),
                        _change("new", "2026-01-05T00:00:00+00:00"),
                        _change("naive", "2026-01-05T00:00:00")]}  # fmt: skip
    answer = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    feed = ChangeFeed("http://sim.test/c", transport=answer)
    asyncio.run(feed.refresh())
    assert [change.change_id for change in feed.changes()] == ["new"]


def test_a_rollback_is_read_as_one_only_when_marked_true() -> None:
    marked = [{**_change(name, "2026-01-05T00:00:00+00:00"), "rollback": flag}
              for name, flag in (("yes", True), ("text", "true"), ("no", False))]  # fmt: skip
    body = {"changes": [*marked, _change("absent", "2026-01-05T00:00:00+00:00")]}
    answer = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    feed = ChangeFeed("http://sim.test/c", transport=answer)
    asyncio.run(feed.refresh())
    assert {change.change_id: change.rollback for change in feed.changes()} == {
        "yes": True,
        "text": False,
        "no": False,
        "absent": False,
    }
