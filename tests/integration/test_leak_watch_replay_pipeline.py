"""``pipelines/leak_watch_replay.py --pure-noise``: the simulator's memory noise alone, as
minute means, replayed through the leak watch's test."""

from __future__ import annotations

import numpy as np

from tests.integration.pipeline_loading import load_pipeline


def test_pure_noise_is_the_simulators_memory_noise_as_minute_means() -> None:
    module = load_pipeline("leak_watch_replay")
    series = module.pure_noise_minutes(seed=1, days=1.0, platforms=3)
    assert sorted(series) == ["p0", "p1", "p2"]
    values = np.stack(list(series.values()))
    assert values.shape == (3, 3 * 1440)  # two days of warm-up and the day
    assert abs(float(values.mean()) - 50.0) < 0.5
    assert 0.8 < float(values.std()) < 1.1  # sd 1, barely narrowed by one-minute means
    lag_one = np.corrcoef(values[0, 1:], values[0, :-1])[0, 1]
    assert 0.85 < lag_one < 0.95  # exp(-60 / 600) = 0.905 per minute


def test_a_replay_on_pure_noise_has_no_leaks_and_counts_false_episodes() -> None:
    module = load_pipeline("leak_watch_replay")
    result = module.replay(
        seed=1, days=0.25, faults=0, kinds=("memory_leak",), thresholds=[2.0, 99.0],
        pure_noise=True,
    )  # fmt: skip
    assert result.delays_s == {2.0: [], 99.0: []}
    assert result.false_episodes[99.0] == 0
    assert result.false_episodes[2.0] > 0  # the noise alone wanders past z 2 within hours


def test_the_disk_watch_names_filling_disks_as_the_service_runs_it() -> None:
    """``--metric disk``: the disk watch's own clip and shortest ramp, no traffic."""
    module = load_pipeline("leak_watch_replay")
    result = module.replay(
        seed=1001, days=0.5, faults=3, kinds=("disk_filling",), thresholds=[6.5], metric="disk"
    )
    delays = result.delays_s[6.5]
    assert len(delays) == 3 and all(delay is not None and delay <= 420 for delay in delays)
    assert result.false_episodes[6.5] == 0


def test_a_minute_is_complete_at_its_last_sample() -> None:
    """The replay dates a prediction when the watch could first make it: the simulator samples
    at the minute and half past, so minute ``i``'s mean is complete at ``i + 0.5``."""
    module = load_pipeline("leak_watch_replay")
    memory, _, leaks, complete = module.minute_series(
        seed=3, days=0.01, faults=0, kinds=("memory_leak",)
    )
    assert leaks == []
    assert complete.size == next(iter(memory.values())).size
    whole = complete.size - 1  # the run's last minute may end early
    assert np.allclose(complete[:whole], np.arange(whole) + 0.5)
