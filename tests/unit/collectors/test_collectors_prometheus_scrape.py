"""The Prometheus scrape collector against small exposition pages served by a MockTransport."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from selfheal_ml.collectors.prometheus_scrape import PrometheusScrape
from selfheal_ml.events import MetricPoint

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "http://leadsite.test/metrics"

PAGE_TEMPLATE = """\
# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{{endpoint="/api",code="200"}} {ok}
http_requests_total{{endpoint="/api",code="500"}} {failed}
http_requests_created{{endpoint="/api",code="200"}} 1.7e9
# HELP in_flight Requests being served.
# TYPE in_flight gauge
in_flight {in_flight}
# HELP request_seconds Request latency.
# TYPE request_seconds histogram
request_seconds_bucket{{endpoint="/api",le="0.1"}} {b01}
request_seconds_bucket{{endpoint="/api",le="0.5"}} {b05}
request_seconds_bucket{{endpoint="/api",le="1.0"}} {b1}
request_seconds_bucket{{endpoint="/api",le="+Inf"}} {binf}
request_seconds_sum{{endpoint="/api"}} 12.5
request_seconds_count{{endpoint="/api"}} {binf}
# TYPE job_seconds summary
job_seconds{{quantile="0.9"}} 2.5
job_seconds_sum 40
job_seconds_count {jobs}
"""

FIRST = {"ok": 1000, "failed": 10, "in_flight": 4, "b01": 50, "b05": 90, "b1": 98, "binf": 100}
# 30 s later: +300 ok, +3 failed; 100 new requests: 40 <= 0.1, 40 in (0.1, 0.5], 20 in (0.5, 1].
SECOND = {"ok": 1300, "failed": 13, "in_flight": 7, "b01": 90, "b05": 170, "b1": 198, "binf": 200}
# The service restarted: counters start again from zero.
RESTARTED = {"ok": 60, "failed": 0, "in_flight": 1, "b01": 5, "b05": 5, "b1": 5, "binf": 5}


def page(values: dict[str, int], jobs: int = 8) -> str:
    return PAGE_TEMPLATE.format(**values, jobs=jobs)


def serving(pages: list[str]) -> httpx.MockTransport:
    remaining: Iterator[str] = iter(pages)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == URL
        assert "version=0.0.4" in request.headers["accept"]
        assert request.headers["user-agent"] == "selfheal-ml-monitor"
        return httpx.Response(200, text=next(remaining))

    return httpx.MockTransport(handler)


def by_series(points: list[MetricPoint]) -> dict[str, float]:
    return {point.series: point.value for point in points}


def scraper(pages: list[str], keep_raw: bool = True) -> PrometheusScrape:
    """A scrape of ``pages`` in turn; raw points kept, as most tests here check the raw
    conversion (the canonical series are checked in ``test_collectors_canonical.py``)."""
    return PrometheusScrape(
        "leadsite.ai",
        URL,
        2.0,
        platform="leadsite.ai",
        transport=serving(pages),
        keep_raw=keep_raw,
    )


LABELS = 'platform="leadsite.ai",target="leadsite.ai"'


async def test_first_scrape_keeps_gauges_but_has_no_rates_and_no_histogram_quantiles() -> None:
    collector = scraper([page(FIRST)])
    values = by_series(await collector.collect(START))
    assert values[f"in_flight{{{LABELS}}}"] == 4.0
    assert values[f"scrape_up{{{LABELS}}}"] == 1.0
    assert values[f"scrape_samples{{{LABELS}}}"] == 13.0
    assert not any("_per_second" in series for series in values)
    # The cumulative buckets are the process's whole history: no interval, no quantile.
    assert not any(series.startswith("request_seconds_p") for series in values)
    job_quantile = 'job_seconds{platform="leadsite.ai",quantile="0.9",target="leadsite.ai"}'
    assert values[job_quantile] == 2.5
    assert collector.last_error is None


async def test_second_scrape_turns_counters_into_rates_and_buckets_into_interval_quantiles() -> (
    None
):
    collector = scraper([page(FIRST), page(SECOND, jobs=14)])
    await collector.collect(START)
    values = by_series(await collector.collect(START + timedelta(seconds=30)))
    ok = f'http_requests_per_second{{code="200",endpoint="/api",{LABELS}}}'
    failed = f'http_requests_per_second{{code="500",endpoint="/api",{LABELS}}}'
    assert values[ok] == pytest.approx(10.0)  # 300 / 30 s
    assert values[failed] == pytest.approx(0.1)  # 3 / 30 s
    assert not any(series.startswith("http_requests_created") for series in values)
    quantile = f'request_seconds_{{}}{{{{endpoint="/api",{LABELS}}}}}'
    # Interval buckets: 40 <= 0.1, 80 <= 0.5, 100 <= 1.0, 100 total.
    assert values[quantile.format("p50")] == pytest.approx(0.2)  # 0.1 + 0.4 * (50-40)/40
    assert values[quantile.format("p95")] == pytest.approx(0.875)  # 0.5 + 0.5 * (95-80)/20
    assert values[quantile.format("p99")] == pytest.approx(0.975)  # 0.5 + 0.5 * (99-80)/20
    count_rate = f'request_seconds_count_per_second{{endpoint="/api",{LABELS}}}'
    assert values[count_rate] == pytest.approx(100 / 30)
    assert values[f"job_seconds_count_per_second{{{LABELS}}}"] == pytest.approx(6 / 30)
    assert values[f"in_flight{{{LABELS}}}"] == 7.0


async def test_slow_history_before_the_first_scrape_gives_no_quantile() -> None:
    slow_past = {**FIRST, "b01": 0, "b05": 0, "b1": 0}  # every earlier request took > 1 s
    calm = {**slow_past, "b01": 100, "b05": 100, "b1": 100, "binf": 200}  # then 100 fast ones
    collector = scraper([page(slow_past), page(calm)])
    first = by_series(await collector.collect(START))
    assert not any(series.startswith("request_seconds_p") for series in first)
    second = by_series(await collector.collect(START + timedelta(seconds=30)))
    assert second[f'request_seconds_p95{{endpoint="/api",{LABELS}}}'] <= 0.1


async def test_counter_reset_is_treated_as_restart_from_zero() -> None:
    collector = scraper([page(FIRST), page(SECOND), page(RESTARTED)])
    await collector.collect(START)
    await collector.collect(START + timedelta(seconds=30))
    values = by_series(await collector.collect(START + timedelta(seconds=60)))
    ok = f'http_requests_per_second{{code="200",endpoint="/api",{LABELS}}}'
    assert values[ok] == pytest.approx(2.0)  # 60 new requests since the restart / 30 s
    failed = f'http_requests_per_second{{code="500",endpoint="/api",{LABELS}}}'
    assert values[failed] == 0.0
    # Histogram reset: the 5 observations since the restart are all <= 0.1.
    p50 = f'request_seconds_p50{{endpoint="/api",{LABELS}}}'
    assert values[p50] == pytest.approx(0.05)
    assert all(value >= 0 for series, value in values.items() if "_per_second" in series)


async def test_interval_without_observations_emits_no_quantile() -> None:
    collector = scraper([page(FIRST), page(FIRST)])
    await collector.collect(START)
    values = by_series(await collector.collect(START + timedelta(seconds=30)))
    assert not any(series.startswith("request_seconds_p") for series in values)
    ok = f'http_requests_per_second{{code="200",endpoint="/api",{LABELS}}}'
    assert values[ok] == 0.0


async def test_exposed_labels_win_over_target_labels() -> None:
    text = '# TYPE queue_depth gauge\nqueue_depth{platform="tackle.io",queue="mail"} 12\n'
    collector = scraper([text])
    values = by_series(await collector.collect(START))
    assert values['queue_depth{platform="tackle.io",queue="mail",target="leadsite.ai"}'] == 12.0


async def test_metric_prefixes_keep_only_matching_families() -> None:
    collector = PrometheusScrape(
        "leadsite.ai", URL, 2.0, metric_prefixes=("in_",), transport=serving([page(FIRST)])
    )
    values = by_series(await collector.collect(START))
    scraped = {series.split("{")[0] for series in values if not series.startswith("scrape_")}
    assert scraped == {"in_flight"}


@pytest.mark.parametrize(
    ("response", "error_fragment"),
    [
        (httpx.Response(500, text="boom"), "500"),
        (httpx.Response(200, text="this is { not prometheus\n"), "Error"),
        (
            httpx.Response(200, text='# TYPE h histogram\nh_bucket{le="fast"} 1\nh_count 1\n'),
            "le",
        ),
    ],
)
async def test_bad_responses_give_scrape_up_zero(
    response: httpx.Response, error_fragment: str
) -> None:
    collector = PrometheusScrape(
        "leadsite.ai", URL, 2.0, transport=httpx.MockTransport(lambda request: response)
    )
    points = await collector.collect(START)
    assert by_series(points) == {'scrape_up{target="leadsite.ai"}': 0.0}
    assert collector.last_error is not None
    assert error_fragment in collector.last_error


async def test_connection_error_gives_scrape_up_zero() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    collector = PrometheusScrape("leadsite.ai", URL, 2.0, transport=httpx.MockTransport(refuse))
    points = await collector.collect(START)
    assert by_series(points) == {'scrape_up{target="leadsite.ai"}': 0.0}
    assert collector.last_error == "ConnectError: connection refused"


async def test_vanished_series_are_forgotten_and_start_afresh() -> None:
    def counters(**values: int) -> str:
        lines = [f'jobs_total{{queue="{queue}"}} {value}' for queue, value in values.items()]
        return "# TYPE jobs_total counter\n" + "\n".join(lines) + "\n"

    collector = scraper([counters(mail=10, sms=10), counters(mail=20), counters(mail=30, sms=90)])
    for offset in (0, 10):
        await collector.collect(START + timedelta(seconds=offset))
    values = by_series(await collector.collect(START + timedelta(seconds=20)))
    mail = 'jobs_per_second{platform="leadsite.ai",queue="mail",target="leadsite.ai"}'
    sms = mail.replace("mail", "sms")
    assert values[mail] == pytest.approx(1.0)
    assert sms not in values  # sms vanished for a scrape: its old baseline is not reused


async def test_non_finite_values_are_dropped() -> None:
    text = (
        "# TYPE temperature gauge\ntemperature NaN\n"
        "# TYPE pressure gauge\npressure +Inf\n"
        '# TYPE rpc_seconds summary\nrpc_seconds{quantile="0.5"} NaN\nrpc_seconds_count 0\n'
        "# TYPE ok gauge\nok 1\n"
    )
    values = by_series(await scraper([text]).collect(START))
    names = {series.split("{")[0] for series in values}
    assert names == {"ok", "scrape_up", "scrape_duration_ms", "scrape_samples"}


async def test_conventional_families_become_canonical_series_and_replace_the_raw_ones() -> None:
    collector = scraper([page(FIRST), page(SECOND)], keep_raw=False)
    await collector.collect(START)
    values = by_series(await collector.collect(START + timedelta(seconds=30)))
    endpoint = f'endpoint="/api",{LABELS}'
    assert values[f"http_requests_per_s{{{endpoint}}}"] == pytest.approx(303 / 30)
    assert values[f"http_5xx_per_s{{{endpoint}}}"] == pytest.approx(0.1)
    ratio = (
        'http_error_ratio{endpoint="/api",platform="leadsite.ai",status_class="5xx",'
        'target="leadsite.ai"}'
    )
    assert values[ratio] == pytest.approx(3 / 303)
    assert not any(series.startswith("http_requests_per_second") for series in values)
    assert values[f"request_seconds_p95{{{endpoint}}}"] == pytest.approx(0.875)  # not conventional
