"""A repair case survives the trip through JSON with every field, so a resumed incident is the
same incident (issue 18, item 3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from selfheal_ml.lifecycle import Trigger
from selfheal_ml.repair.case import Aim, RepairCase
from selfheal_ml.repair.case_record import case_from_json, case_to_json
from selfheal_ml.repair.strategy import PlannedStep

NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)


def test_every_field_round_trips_through_json_text() -> None:
    case = RepairCase(
        incident_id="inc-7",
        correlation_id="corr-7",
        target="orders-db",
        platform="shop",
        triggers=(
            Trigger(kind="range", key="db_up", low=1.0, high=1.0, component="orders-db"),
            Trigger(kind="alert", key="HighErrorRate", value=0.2),
        ),
        plan=[PlannedStep("add_index", "classifier", "p=0.7")],
        params={"add_index": {"table": "orders", "columns": ["customer_id"], "online": True}},
        tried=["reset_db_connections"],
        state="approval",
        step=PlannedStep("reindex", "playbook", "9 of 9 worked"),
        attempt_id="att-1",
        approval_id="apr-1",
        approved_by="on-call",
        started_at=NOW,
        deadline=NOW + timedelta(minutes=10),
        retry_since=NOW - timedelta(minutes=1),
        recovered_streak=1,
        planless_since=NOW - timedelta(minutes=2),
        note="reindex on orders-db waits for a person's approval",
        next_aim=Aim("orders-cache", "shop", {"clear_cache": {"pattern": "orders:*"}}),
    )
    text = json.dumps(case_to_json(case))
    assert case_from_json(json.loads(text)) == case
