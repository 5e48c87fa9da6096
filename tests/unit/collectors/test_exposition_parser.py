"""The fast exposition parser gives exactly what prometheus_client's parser gives, or defers.

Equality is checked on the simulator's pages (the pages the demo scrapes 13,000 times), on a
page prometheus_client itself renders (every metric type, escapes included), and on pages
outside the strict subset, which must go to the full parser and fare exactly as there.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client.exposition import generate_latest

from selfheal_ml.collectors.exposition_parser import (
    parse_exposition,
    parse_exposition_full,
    parse_well_formed,
)
from selfheal_ml.sim import FaultKind, PlatformSimulator

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def simulator_pages() -> list[str]:
    simulator = PlatformSimulator(seed=4, start=START)
    simulator.advance(600.0)
    simulator.inject(FaultKind.SERVICE_CRASH, "tackle.io")
    simulator.advance(120.0)
    pages = [simulator.prometheus_text(), simulator.dependency_text("postgres")]
    return pages + [simulator.prometheus_text(name) for name in simulator.platform_names]


def client_page() -> str:
    registry = CollectorRegistry()
    jobs = Counter("jobs", "Jobs done.", ["queue"], registry=registry)
    jobs.labels(queue="a").inc(3)
    jobs.labels(queue='we"ird\\q').inc()
    Gauge("temperature_celsius", "A gauge\nwith a newline.", registry=registry).set(-1.5)
    Histogram("latency_seconds", "Latency.", registry=registry).observe(0.3)
    Summary("size_bytes", "Sizes.", registry=registry).observe(512)
    return generate_latest(registry).decode()


@pytest.mark.parametrize("page", simulator_pages())
def test_simulator_pages_parse_on_the_fast_path_like_the_full_parser(page: str) -> None:
    assert parse_well_formed(page) == parse_exposition_full(page)


def test_a_client_library_page_parses_like_the_full_parser() -> None:
    page = client_page()
    assert parse_exposition(page) == parse_exposition_full(page)


@pytest.mark.parametrize(
    "page",
    [
        "# TYPE a gauge\na 1\nloose 2\n# HELP b B.\nb 3\n",  # untyped strays, HELP without TYPE
        '# TYPE c counter\nc_total{x="1",} 5 1700000000000\n',  # trailing comma, a timestamp
        "# TYPE d_total counter\nd_total 1\n# some comment\n\n# TYPE e summary\ne 1\ne_count 2\n",
        "# TYPE f counter\nf 2\n",  # a counter not named _total is renamed like the full parser
    ],
)
def test_edge_cases_of_the_subset_match_the_full_parser(page: str) -> None:
    assert parse_exposition(page) == parse_exposition_full(page)


@pytest.mark.parametrize(
    "page",
    [
        'a{x="a\\"b"} 1\n',  # an escaped quote
        'a{x = "1"} 1\n',  # spaces around =
        "a 1 2 3\n",  # extra fields
        "# HELP a A \\\\ backslash.\na 1\n",
        "a 1_000\n",
        "a{x=unquoted} 1\n",
        "# TYPE a\n",
        "not a metric line\n",
    ],
)
def test_pages_outside_the_subset_fare_exactly_as_in_the_full_parser(page: str) -> None:
    try:
        expected = parse_exposition_full(page)
    except ValueError:
        with pytest.raises(ValueError):
            parse_exposition(page)
        return
    assert parse_exposition(page) == expected
