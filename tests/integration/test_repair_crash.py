"""``kill -9`` of a real ``serve`` process loses no repair state (issue 18, acceptance).

Two stacks (``sim serve`` + ``serve --dev`` as real processes, free ports, a temporary DuckDB
file each; :class:`selfheal_ml.live.stack.LiveStack`) with the live loop's timing, approvals
that wait 15 min, a circuit breaker that opens after one ineffective attempt, and ``reindex``
(the slow query's least risky fix) made to wait for a person (``[agents.repair]
approval_actions``). Faults are injected through the simulator; the service is killed with
SIGKILL (no shutdown, no checkpoint) while it holds each state, started again on the same
file, and must answer as it would have:

1. **a pending approval** (the slow query's reindex on leadsite.io) is listed again with the
   same id and deadline, and approving it runs the repair;
2. **an executed, unverified repair** (the restart of the crashed tackle.io) is verified
   after the restart (its audit row gets an outcome) and is not run a second time;
3. **a tripped breaker** (a crash on videosite.io that came back right after its restart, so
   the repair did not work) still refuses repairs on that target after the restart.

One kill per state. The approval has a stack of its own: an open slow-query incident would
absorb a later crash (every platform uses the database), and after a restart the Diagnostic
agent (whose grouping is in memory) may open a second incident for the same slow query
(docs/durability.md, known limits). Before issue 18 the first gave 404 forever, the second
stayed unverified, and the third started closed. A stack that cannot start skips with the
reason; a failing test prints the audit log and both servers' logs.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from selfheal_ml.live.client import LiveClient
from selfheal_ml.live.stack import LIVE_TIMING, LiveStack, StackError

pytestmark = pytest.mark.integration

TIMING = {
    **LIVE_TIMING,
    "SELFHEAL_APPROVAL_TIMEOUT_S": "900",
    "SELFHEAL_REPAIR_BREAKER_THRESHOLD": "1",
}
POLL_S = 1.0
T = TypeVar("T")


def _stack(workdir: Path) -> LiveStack:
    config = workdir / "selfheal.toml"
    config.write_text('[agents.repair]\napproval_actions = ["reindex", "add_index"]\n')
    return LiveStack(workdir, timing=TIMING, service_config=config)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveStack]]:
    """Two stacks started together: one for the approval, one for the two crashes."""
    live = {name: _stack(tmp_path_factory.mktemp(name)) for name in ("approval", "crashes")}
    try:
        for each in live.values():
            each.launch()
        for each in live.values():
            each.wait_ready()
    except StackError as error:
        for each in live.values():
            each.stop()
        pytest.skip(f"live stack did not start: {error}\n{error.log[-1500:]}")
    yield live
    for each in live.values():
        each.stop()


def connect(stack: LiveStack) -> LiveClient:
    assert stack.sim is not None and stack.service is not None
    # a restarted service warms up from its history: give an approval a minute to answer
    return LiveClient(stack.sim.url, stack.service.url, timeout_s=60.0)


def wait_for(
    find: Callable[[], T | None], timeout_s: float, what: str, stack: LiveStack, client: LiveClient
) -> T:
    """Poll ``find`` until it returns something; fail with the audit log and logs if not."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = find()
        if found is not None:
            return found
        time.sleep(POLL_S)
    audit = json.dumps(client.audit(), indent=1)
    pytest.fail(f"{what}: not within {timeout_s:.0f} s\naudit {audit}\n{stack.logs()}")


def kill_and_restart(stack: LiveStack) -> None:
    """SIGKILL the service and start it again on the same port and DuckDB file."""
    assert stack.service is not None
    assert stack.service.kill() == -signal.SIGKILL
    stack.restart_service()


def rows(client: LiveClient, **match: Any) -> list[dict[str, Any]]:
    """Audit rows whose fields equal ``match``."""
    return [row for row in client.audit() if all(row.get(k) == v for k, v in match.items())]


def unverified_on(client: LiveClient, target: str) -> dict[str, Any] | None:
    """An executed repair on ``target`` without outcome, once its incident is verifying."""
    for row in rows(client, target=target, decision="executed", outcome=None):
        if client.incident(str(row["incident_id"])).get("status") == "verifying":
            return row
    return None


def test_a_pending_approval_survives_kill_9(stacks: dict[str, LiveStack]) -> None:
    stack = stacks["approval"]
    with connect(stack) as client:
        _pending_approval(stack, client)


def _pending_approval(stack: LiveStack, client: LiveClient) -> None:
    client.inject("slow_query", "leadsite.io")
    pending = wait_for(lambda: client.pending() or None, 180, "an approval", stack, client)[0]

    kill_and_restart(stack)

    again = {entry["id"]: entry for entry in client.pending()}
    assert pending["id"] in again, f"approval {pending['id']} lost: {again}"
    assert again[pending["id"]]["expiresAt"] == pending["expiresAt"]
    answer = client.approve(str(pending["id"]), by="on-call (after kill -9)")
    assert (answer["decision"], answer["approvalId"]) == ("executed", pending["id"]), answer
    wait_for(
        lambda: client.incident(str(pending["incidentId"]))["status"] == "resolved" or None,
        150,
        "the approved repair verified",
        stack,
        client,
    )


def test_an_unverified_repair_is_verified_after_kill_9(stacks: dict[str, LiveStack]) -> None:
    stack = stacks["crashes"]
    with connect(stack) as client:
        _unverified_repair(stack, client)


def _unverified_repair(stack: LiveStack, client: LiveClient) -> None:
    client.inject("service_crash", "tackle.io")
    running = wait_for(
        lambda: unverified_on(client, "tackle.io"), 150, "a repair verifying", stack, client
    )

    kill_and_restart(stack)

    verified = wait_for(
        lambda: next(iter(rows(client, attempt_id=running["attempt_id"])), {}).get("outcome"),
        150,
        "the unverified repair verified after the restart",
        stack,
        client,
    )
    assert verified in ("worked", "did_not_work")
    runs = rows(client, incident_id=running["incident_id"], decision="executed")
    assert [row["attempt_id"] for row in runs] == [running["attempt_id"]]  # not run again


def test_a_tripped_breaker_survives_kill_9(stacks: dict[str, LiveStack]) -> None:
    stack = stacks["crashes"]
    with connect(stack) as client:
        _tripped_breaker(stack, client)


def _tripped_breaker(stack: LiveStack, client: LiveClient) -> None:
    client.inject("service_crash", "videosite.io")
    running = wait_for(
        lambda: unverified_on(client, "videosite.io"), 150, "a restart verifying", stack, client
    )
    client.inject("service_crash", "videosite.io")  # back at once: the restart did not work
    wait_for(
        lambda: rows(client, attempt_id=running["attempt_id"], outcome="did_not_work") or None,
        150,
        "the restart judged ineffective (the breaker opens after one)",
        stack,
        client,
    )

    killed_at = datetime.now(UTC)
    kill_and_restart(stack)

    client.inject("service_crash", "videosite.io")
    refused = wait_for(
        lambda: (
            [
                row
                for row in rows(client, target="videosite.io", decision="refused")
                if "circuit breaker open" in str(row["reason"])
                and datetime.fromisoformat(row["ts"]) > killed_at
            ]
            or None
        ),
        180,
        "a repair on videosite.io refused by the breaker after the restart",
        stack,
        client,
    )
    assert refused
    executed_after = [
        row
        for row in rows(client, target="videosite.io", decision="executed")
        if datetime.fromisoformat(row["ts"]) > killed_at
    ]
    assert executed_after == [], "the breaker let a repair through after the restart"
