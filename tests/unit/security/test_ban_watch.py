"""The ban watch: a banned address is reported once when silent for quiet_s while banned."""

from __future__ import annotations

import pytest

from selfheal_ml.security.ban_watch import BanWatch

from .conftest import at, failure, request


def test_refused_traffic_keeps_the_attack_going() -> None:
    watch = BanWatch(quiet_s=120)
    watch.banned("203.0.113.5", at(0), at(600), correlation_id="c1")
    for seconds in range(10, 300, 10):  # refused (403) requests for five minutes
        watch.saw([request(seconds, "203.0.113.5", status=403), failure(seconds, "198.51.100.1")])
        assert watch.quiet(at(seconds)) == []
    (quiet,) = watch.quiet(at(410))
    assert (quiet.address, quiet.last_seen, quiet.until) == ("203.0.113.5", at(290), at(600))
    assert quiet.banned_at == at(0) and quiet.correlation_id == "c1"
    assert len(watch) == 0


def test_a_ban_that_runs_out_first_is_dropped_unreported() -> None:
    watch = BanWatch(quiet_s=120)
    watch.banned("203.0.113.5", at(0), at(600))
    watch.saw([request(590, "203.0.113.5")])
    assert watch.quiet(at(650)) == [] and len(watch) == 0


def test_a_new_ban_replaces_the_old() -> None:
    watch = BanWatch(quiet_s=120)
    watch.banned("203.0.113.5", at(0), at(600))
    watch.banned("203.0.113.5", at(700), at(4300))
    assert [q.banned_at for q in watch.quiet(at(900))] == [at(700)]


def test_quiet_must_be_positive() -> None:
    with pytest.raises(ValueError, match="quiet_s"):
        BanWatch(quiet_s=0)
