"""Shared fixtures for tests that talk to real things: the local PostgreSQL and Redis, and
apps served by uvicorn on a free loopback port. Absent servers skip the test with the reason."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
import pytest
import redis
import uvicorn

from selfheal_ml.events import AnomalyDetected, Event

POSTGRES_DSNS = (
    os.environ.get("SELFHEAL_TEST_POSTGRES_DSN", ""),
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://root@127.0.0.1:5432/test",
)
REDIS_URL = os.environ.get("SELFHEAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

ServeApp = Callable[[Any], AbstractContextManager[str]]


@pytest.fixture(scope="module")
def postgres_dsn() -> str:
    """A DSN of the local PostgreSQL (trust auth), or a skip saying none answered."""
    failures = []
    for dsn in filter(None, POSTGRES_DSNS):
        try:
            with psycopg.connect(dsn, connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            return dsn
        except psycopg.Error as error:
            failures.append(f"{dsn}: {type(error).__name__}")
    pytest.skip(f"no PostgreSQL reachable on loopback ({'; '.join(failures)})")


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The URL of the local Redis, or a skip saying it did not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        pytest.skip(f"no Redis reachable at {REDIS_URL} ({type(error).__name__})")
    finally:
        client.close()
    return REDIS_URL


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        sock.close()


@pytest.fixture(scope="session")
def serve_app() -> ServeApp:
    """``with serve_app(app) as base_url:`` runs ``app`` with uvicorn in a thread on loopback."""
    return _serve


class AnomalyLog:
    """Every ``AnomalyDetected`` a run publishes (subscribe ``record`` to the bus)."""

    def __init__(self) -> None:
        self.events: list[AnomalyDetected] = []

    async def record(self, event: Event) -> None:
        if isinstance(event, AnomalyDetected):
            self.events.append(event)


@pytest.fixture
def seen() -> AnomalyLog:
    """A fresh anomaly log for one test."""
    return AnomalyLog()
