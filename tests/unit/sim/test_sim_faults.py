"""Every fault kind: its documented symptoms appear (and propagate), its documented repair ends
it, a wrong action does not.

Each check runs two simulators with the same seed side by side, one with the fault and one
without (the control), so a symptom is a difference against exactly the same normal traffic.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.sim import CATALOGUE, FaultKind, FaultRecord, PlatformSimulator, RepairAction
from selfheal_ml.sim.catalogue import Symptom

START = datetime(2026, 1, 5, 10, tzinfo=UTC)  # a Monday, mid-morning
ORIGIN = "leadsite.io"
WARMUP_S = 600.0
SETTLE_S = 900.0


def _wrong_action(kind: FaultKind) -> RepairAction:
    """A plausible but wrong action: the confusable fault's fix when there is one."""
    spec = CATALOGUE[kind]
    for other in spec.confusable_with:
        for action in CATALOGUE[other].fixing_actions:
            if action not in spec.fixing_actions:
                return action
    if RepairAction.RESTART_SERVICE not in spec.fixing_actions:
        return RepairAction.RESTART_SERVICE
    return RepairAction.CLEAR_TEMP_FILES


def _pair(kind: FaultKind, seed: int = 3) -> tuple[PlatformSimulator, PlatformSimulator, str]:
    control = PlatformSimulator(seed=seed, start=START)
    faulty = PlatformSimulator(seed=seed, start=START)
    for sim in (control, faulty):
        sim.advance(WARMUP_S)
    fault_id = faulty.inject(kind, ORIGIN)
    onset_s = CATALOGUE[kind].onset_s
    control.advance(onset_s)
    faulty.advance(onset_s)
    return control, faulty, fault_id


def _series(sim: PlatformSimulator, metric: str, platform: str | None) -> dict[str, float]:
    return {
        point.series: point.value
        for point in sim.observe()
        if point.series.split("{")[0] == metric and point.labels.get("platform") == platform
    }


def _shows(symptom: Symptom, faulty: dict[str, float], control: dict[str, float]) -> bool:
    """The symptom holds on at least one series: a clear move in the documented direction."""
    assert faulty, f"no series named {symptom.metric}"
    if symptom.direction == "up":
        return any(faulty[key] > 1.2 * control[key] + 0.01 for key in faulty)
    return any(faulty[key] < 0.8 * control[key] - 0.01 for key in faulty)


def _where(symptom: Symptom, record: FaultRecord) -> list[str | None]:
    if symptom.where == "dependency":
        return [None]
    if symptom.where == "origin":
        return [record.platform]
    return list(record.platforms)


def _unmet(control: PlatformSimulator, faulty: PlatformSimulator, fault_id: str) -> list[str]:
    record = next(record for record in faulty.faults() if record.fault_id == fault_id)
    missing = []
    for symptom in record.symptoms:
        for platform in _where(symptom, record):
            seen = _series(faulty, symptom.metric, platform)
            if not _shows(symptom, seen, _series(control, symptom.metric, platform)):
                missing.append(f"{symptom.metric} {symptom.direction} on {platform}")
    return missing


@pytest.mark.parametrize("kind", list(FaultKind))
def test_fault_produces_its_documented_symptoms(kind: FaultKind) -> None:
    control, faulty, fault_id = _pair(kind)
    assert _unmet(control, faulty, fault_id) == []
    record = faulty.faults(active_only=True)[0]
    if CATALOGUE[kind].scope == "platform":
        assert record.platforms == (ORIGIN,)
    else:  # a dependency fault reaches every platform that uses the dependency
        assert record.platforms == control.platform_names


@pytest.mark.parametrize("kind", list(FaultKind))
def test_wrong_action_does_not_end_the_fault(kind: FaultKind) -> None:
    control, faulty, fault_id = _pair(kind)
    result = faulty.apply_action(ORIGIN, _wrong_action(kind))
    assert not result.fixed
    assert result.fault_ids == ()
    assert result.cost
    control.advance(SETTLE_S)
    faulty.advance(SETTLE_S)
    assert [record.fault_id for record in faulty.faults(active_only=True)] == [fault_id]


@pytest.mark.parametrize(
    ("kind", "action"),
    [(kind, action) for kind in FaultKind for action in CATALOGUE[kind].fixing_actions],
)
def test_documented_repair_ends_the_fault_and_its_symptoms(
    kind: FaultKind, action: RepairAction
) -> None:
    control, faulty, fault_id = _pair(kind)
    result = faulty.apply_action(ORIGIN, action)
    assert result.fixed
    assert result.fault_ids == (fault_id,)
    record = faulty.faults()[0]
    assert record.resolved_by == action.value
    assert record.resolved_at == faulty.now()
    control.advance(SETTLE_S)
    faulty.advance(SETTLE_S)
    assert faulty.faults(active_only=True) == []
    symptoms = CATALOGUE[kind].symptoms
    for symptom in symptoms:
        for platform in _where(symptom, record):
            seen = _series(faulty, symptom.metric, platform)
            assert not _shows(symptom, seen, _series(control, symptom.metric, platform)), (
                f"{symptom.metric} still {symptom.direction} on {platform} after {action}"
            )


def test_platform_fault_stays_on_its_platform() -> None:
    control, faulty, _ = _pair(FaultKind.SERVICE_CRASH)
    assert faulty.health(ORIGIN) == "down"
    for platform in faulty.platform_names:
        if platform != ORIGIN:
            assert faulty.health(platform) == "healthy"
            assert _series(faulty, "http_5xx_per_s", platform) == _series(
                control, "http_5xx_per_s", platform
            )


def test_database_fault_slows_every_platform_and_is_fixed_from_any() -> None:
    _, faulty, fault_id = _pair(FaultKind.DB_POOL_EXHAUSTION)
    assert {faulty.health(platform) for platform in faulty.platform_names} == {"degraded"}
    result = faulty.apply_action("tackle.io", RepairAction.RESET_DB_CONNECTIONS)
    assert result.fault_ids == (fault_id,)


def test_confusable_database_faults_differ_only_in_a_few_signals() -> None:
    _, pool, _ = _pair(FaultKind.DB_POOL_EXHAUSTION)
    _, down, _ = _pair(FaultKind.DB_UNREACHABLE)
    for sim in (pool, down):  # both: slow and failing requests everywhere
        assert {sim.health(platform) for platform in sim.platform_names} != {"healthy"}
    assert pool.frame.db_connections == 100.0 and pool.frame.db_up == 1.0
    assert down.frame.db_connections == 0.0 and down.frame.db_up == 0.0


def test_bad_config_push_is_preceded_by_a_config_change_marker() -> None:
    _, faulty, _ = _pair(FaultKind.BAD_CONFIG_PUSH)
    record = faulty.faults()[0]
    change_id = dict(record.details)["config_change_id"]
    change = next(c for c in faulty.config_changes() if c.change_id == change_id)
    assert change.platform == ORIGIN
    assert change.ts == record.injected_at
    assert not change.rollback
    faulty.apply_action(ORIGIN, RepairAction.ROLLBACK_CONFIG)
    rollback = faulty.config_changes()[-1]
    assert rollback.description.startswith("rollback") and rollback.rollback


def test_fault_with_duration_expires_and_its_effects_stop() -> None:
    sim = PlatformSimulator(seed=5, start=START)
    sim.inject(FaultKind.SERVICE_CRASH, "tackle.io", duration_s=300.0)
    sim.advance(240.0)
    assert sim.health("tackle.io") == "down"
    sim.advance(120.0)
    record = sim.faults()[0]
    assert record.resolved_by == "expired"
    assert record.resolved_at == record.expires_at
    assert sim.health("tackle.io") == "healthy"


def test_restart_costs_an_error_blip_even_when_nothing_is_wrong() -> None:
    sim = PlatformSimulator(seed=5, start=START)
    result = sim.apply_action("videosite.io", RepairAction.RESTART_SERVICE)
    assert not result.fixed
    assert "in-flight" in result.cost
    assert max(_series(sim, "http_5xx_per_s", "videosite.io").values()) > 0.0
    sim.advance(60.0)
    assert max(_series(sim, "http_5xx_per_s", "videosite.io").values()) == 0.0


def test_a_scale_out_is_scaled_in_so_the_next_surge_saturates_again() -> None:
    """An added instance is held an hour, not for good: a surge injected after that sheds
    requests as the first did (capacity that stayed raised made later surges harmless)."""
    sim = PlatformSimulator(seed=5, start=START)

    def shed_errors_after_surge() -> float:
        fault_id = sim.inject(FaultKind.TRAFFIC_SURGE, ORIGIN, severity=0.6)
        sim.advance(CATALOGUE[FaultKind.TRAFFIC_SURGE].onset_s)
        errors = sum(_series(sim, "http_5xx_per_s", ORIGIN).values())
        assert sim.apply_action(ORIGIN, RepairAction.SCALE_OUT).fault_ids == (fault_id,)
        return errors

    first = shed_errors_after_surge()
    sim.advance(600.0)
    held = sim.inject(FaultKind.TRAFFIC_SURGE, ORIGIN, severity=0.6)
    sim.advance(CATALOGUE[FaultKind.TRAFFIC_SURGE].onset_s)
    absorbed = sum(_series(sim, "http_5xx_per_s", ORIGIN).values())
    sim.apply_action(ORIGIN, RepairAction.SCALE_OUT)
    # while the instance is held, capacity is raised
    assert first > 0.0 and held and absorbed < 0.5 * first
    sim.advance(2 * 3600.0)
    assert shed_errors_after_surge() > 0.5 * first


def test_recurring_fault_gets_a_new_id_and_its_own_record() -> None:
    sim = PlatformSimulator(seed=5, start=START)
    first = sim.inject(FaultKind.MEMORY_LEAK, "leadsite.ai", severity=0.5)
    sim.apply_action("leadsite.ai", RepairAction.RESTART_SERVICE)
    second = sim.inject(FaultKind.MEMORY_LEAK, "leadsite.ai", severity=0.5)
    assert first != second
    assert [record.active for record in sim.faults()] == [False, True]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "meteor_strike", "platform": ORIGIN}, "kind"),
        ({"kind": "service_crash", "platform": "example.com"}, "platform"),
        ({"kind": "service_crash", "platform": None}, "platform"),
        ({"kind": "service_crash", "platform": ORIGIN, "severity": 0.0}, "severity"),
        ({"kind": "service_crash", "platform": ORIGIN, "duration_s": -1.0}, "duration_s"),
    ],
)
def test_inject_rejects_bad_input_naming_the_field(
    arguments: dict[str, object], field: str
) -> None:
    sim = PlatformSimulator(seed=0, start=START)
    with pytest.raises(ValidationError) as caught:
        sim.inject(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_apply_action_rejects_unknown_action_and_platform() -> None:
    sim = PlatformSimulator(seed=0, start=START)
    with pytest.raises(ValidationError) as caught:
        sim.apply_action(ORIGIN, "reboot_universe")
    assert caught.value.field == "action"
    with pytest.raises(ValidationError) as caught:
        sim.apply_action("example.com", "restart_service")
    assert caught.value.field == "platform"


@pytest.mark.parametrize("kind", list(FaultKind))
def test_fault_names_every_dependency_it_moves(kind: FaultKind) -> None:
    """The record's ``dependencies`` (from its catalogue symptoms) are exactly the shared
    dependencies with a series that moved clearly against the control: the detection report
    matches a dependency's alert to the faults that name it."""
    control, faulty, fault_id = _pair(kind)
    record = next(record for record in faulty.faults() if record.fault_id == fault_id)
    before = {point.series: point.value for point in control.observe()}
    moved = {
        point.labels["dependency"]
        for point in faulty.observe()
        if "dependency" in point.labels
        and abs(point.value - before[point.series]) > 0.2 * abs(before[point.series]) + 0.01
    }
    assert set(record.dependencies) == moved
