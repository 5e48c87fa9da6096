"""``BanMiddleware`` in a Starlette app: banned addresses get 403, the copy of the bans is
refreshed after its TTL, a failing source never takes the app down (unless asked to)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from selfheal_ml.enforcement import BanMiddleware, DecisionUpdate

BANNED = "203.0.113.5"
GOOD = "198.51.100.20"


class FakeSource:
    """An in-memory source: the bans it holds, how often it was asked, an optional failure."""

    def __init__(self, bans: dict[str, float] | None = None) -> None:
        self.bans = dict(bans or {})
        self.pulls = 0
        self.failing = False

    async def pull(self) -> DecisionUpdate:
        self.pulls += 1
        if self.failing:
            raise ConnectionError("decision service down")
        return DecisionUpdate(new=dict(self.bans), full=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def app_with(source: FakeSource, clock: FakeClock, **options: object) -> Starlette:
    app = Starlette(routes=[Route("/", hello)])
    app.add_middleware(BanMiddleware, source=source, clock=clock, **options)  # type: ignore[arg-type]
    return app


def get(app: Starlette, address: str) -> httpx.Response:
    with TestClient(app, client=(address, 40000)) as client:
        return client.get("/")


def test_a_banned_address_is_refused_and_others_served() -> None:
    app = app_with(FakeSource({BANNED: 600.0}), FakeClock())
    refused = get(app, BANNED)
    assert (refused.status_code, refused.text) == (403, "Forbidden")
    assert get(app, GOOD).text == "hello"
    assert get(app, f"::ffff:{BANNED}").status_code == 403


def test_new_bans_are_seen_after_the_ttl_and_not_before() -> None:
    source, clock = FakeSource(), FakeClock()
    app = app_with(source, clock, ttl_s=5.0)
    with TestClient(app, client=(BANNED, 40000)) as client:
        assert client.get("/").status_code == 200
        source.bans[BANNED] = 600.0
        clock.now += 4.0
        assert client.get("/").status_code == 200  # the copy is 4 s old: still trusted
        assert source.pulls == 1
        clock.now += 1.0
        client.get("/")  # stale: this request starts the background refresh
        client.get("/")
        assert source.pulls == 2
        assert client.get("/").status_code == 403


def test_a_ban_expires_on_time_even_when_the_source_is_down() -> None:
    source, clock = FakeSource({BANNED: 30.0}), FakeClock()
    app = app_with(source, clock, ttl_s=5.0)
    with TestClient(app, client=(BANNED, 40000)) as client:
        assert client.get("/").status_code == 403
        source.failing = True
        clock.now += 10.0
        assert client.get("/").status_code == 403  # copy kept while the source is down
        clock.now += 21.0
        assert client.get("/").status_code == 200  # the 30 s ban is over


@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
def test_before_any_pull_works_fail_open_decides(fail_open: bool, status: int) -> None:
    source = FakeSource({GOOD: 600.0})
    source.failing = True
    app = app_with(source, FakeClock(), fail_open=fail_open)
    assert get(app, GOOD).status_code == status
