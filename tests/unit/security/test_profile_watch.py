"""The request profiles live: per platform, after a warm-up, never learning what they should
not (flagged requests, failed requests, banned addresses); the detector's unusual_request."""

from __future__ import annotations

from selfheal_ml.security.ban_policy import BanSettings
from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.findings import FindingKind
from selfheal_ml.security.profile_watch import DEFAULT_WARMUP_REQUESTS, PlatformProfiles
from selfheal_ml.security.records import LogRecord

from .conftest import request

WARMUP = 60
NOBODY_BANNED = frozenset[str]().__contains__


def _normal(count: int, ip: str = "192.0.2.10", start: float = 0.0) -> list[LogRecord]:
    return [request(start + n, ip, f"/shop/item.jsp?id={n % 4}&B1=Buy") for n in range(count)]


def _warm(platform: str = "") -> PlatformProfiles:
    profiles = PlatformProfiles(warmup_requests=WARMUP)
    records = [record._replace(platform=platform) for record in _normal(WARMUP)]
    assert profiles.check(records, set(), NOBODY_BANNED) == {}
    return profiles


TAMPERED = "/shop/item.jsp?id=1%27+or+1%3D1--&B1=Buy"


def test_nothing_is_flagged_during_the_warm_up() -> None:
    profiles = PlatformProfiles(warmup_requests=WARMUP)
    records = [*_normal(20), request(30, "198.51.100.9", TAMPERED)]
    assert profiles.check(records, set(), NOBODY_BANNED) == {}


def test_after_the_warm_up_a_tampered_request_is_flagged_and_not_learnt() -> None:
    profiles = _warm()
    for _ in range(3):  # flagged each time: it never became normal
        flagged = profiles.check([request(100, "198.51.100.9", TAMPERED)], set(), NOBODY_BANNED)
        assert list(flagged) == [0] and flagged[0] >= profiles.threshold


def test_requests_flagged_elsewhere_failed_or_from_banned_addresses_are_not_learnt() -> None:
    profiles = _warm()
    learnt = profiles.profiles_[""].observations_
    normal = "/shop/item.jsp?id=1&B1=Buy"  # the profile itself would learn it
    checks = [
        (request(100, "198.51.100.9", normal), {0}, NOBODY_BANNED),  # the injection scorer's
        (request(101, "192.0.2.10", normal, status=404), set(), NOBODY_BANNED),  # failed
        (request(102, "198.51.100.9", normal), set(), frozenset({"198.51.100.9"}).__contains__),
    ]
    for record, flagged, banned in checks:
        assert profiles.check([record], flagged, banned) == {}
    assert profiles.profiles_[""].observations_ == learnt
    profiles.check([request(103, "192.0.2.10", normal)], set(), NOBODY_BANNED)
    assert profiles.profiles_[""].observations_ == learnt + 1


def test_each_platform_has_its_own_profile() -> None:
    profiles = _warm("shop.example")
    other = request(100, "192.0.2.10", TAMPERED)._replace(platform="blog.example")
    assert profiles.check([other], set(), NOBODY_BANNED) == {}  # blog.example still warming up
    assert set(profiles.profiles_) == {"shop.example", "blog.example"}


def test_the_detector_reports_an_address_sending_unusual_requests_as_a_warning() -> None:
    # a backup-file probe scores 3.3 after 2000 requests (one new extension): threshold 3
    detector = AttackDetector(profiles=PlatformProfiles(threshold=3.0))
    assert detector.observe(_normal(DEFAULT_WARMUP_REQUESTS)) == []
    start = DEFAULT_WARMUP_REQUESTS + 10
    probes = [request(start + n, "198.51.100.9", f"/shop/item.jsp.{n}.bak") for n in range(3)]
    findings = detector.observe(probes)
    assert [(f.kind, f.value, f.event_count) for f in findings] == [
        (FindingKind.UNUSUAL_REQUEST, "198.51.100.9", 3)
    ]
    assert not findings[0].confirmed_attack
    assert FindingKind.UNUSUAL_REQUEST not in BanSettings().ban_kinds


def test_without_profiles_the_detector_has_no_unusual_requests() -> None:
    detector = AttackDetector()
    records = _normal(WARMUP) + [request(100 + n, "198.51.100.9", TAMPERED) for n in range(5)]
    assert all(f.kind is not FindingKind.UNUSUAL_REQUEST for f in detector.observe(records))
