"""``GET /v1/optimizations``: the Performance agent's current findings, from its board."""

from __future__ import annotations

from fastapi.testclient import TestClient

from selfheal_ml.performance import Finding


def test_no_findings_before_the_first_round(client: TestClient) -> None:
    response = client.get("/v1/optimizations")
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 0}


def test_the_board_s_findings_with_their_target_and_a_kind_filter(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    runtime.optimizations.replace(
        "main-db",
        [
            Finding(
                kind="missing_index",
                table="events",
                columns=("account_id",),
                fingerprint="abc",
                mean_ms=12.5,
                calls=40,
                recommendation="CREATE INDEX CONCURRENTLY ON events (account_id)",
            ),
            Finding(
                kind="unused_index",
                table="events",
                index="events_note_idx",
                evidence={"scans": 0, "size_bytes": 8192},
            ),
        ],
    )
    body = client.get("/v1/optimizations").json()
    assert body["count"] == 2
    first = body["items"][0]
    assert (first["target"], first["kind"], first["columns"]) == (
        "main-db",
        "missing_index",
        ["account_id"],
    )
    only_unused = client.get("/v1/optimizations", params={"kind": "unused_index"}).json()
    assert [item["index"] for item in only_unused["items"]] == ["events_note_idx"]
    assert only_unused["items"][0]["evidence"] == {"scans": 0, "size_bytes": 8192}
