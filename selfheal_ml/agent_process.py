"""Agents as processes: which agents a process runs, and the loop of an agent process.

``selfheal-ml serve --agents none|all|NAME,...`` decides which agents run inside the API
process (:func:`with_agents`); ``selfheal-ml agent run NAME... --bus URL`` runs the named agents
alone (:func:`run_agent_process`), on a shared bus, reporting themselves by heartbeats. The
supervisor's restart policy applies inside each process; a process that dies is restarted by
whatever runs it (systemd, a Procfile runner: ``docs/cluster.md``).

``--partition K/N`` makes the process one of ``N`` Predictive scorers: it scores the series of
partition ``K``, in consumer groups of that partition, and checkpoints its detector state in
Redis after every round (``agents/checkpointed_scoring.py``). A partition has one live owner at
a time (``scoring/lease.py``): a second process started for it waits as a warm standby and
takes over within the lease time when the owner dies.

``serve`` reads :func:`parse_agents` and :func:`with_agents` from here: the Redis client (about
8 MB of RSS with what it imports) is imported by the functions that run an agent process, so an
API process on the in-memory bus does not hold it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from selfheal_ml.agents.supervisor import SupervisedAgent
from selfheal_ml.bus import build_bus
from selfheal_ml.bus.selection import is_redis_address
from selfheal_ml.config import AGENT_NAMES, Settings
from selfheal_ml.errors import ConfigError
from selfheal_ml.runtime import Runtime, build_runtime, start_runtime

if TYPE_CHECKING:  # the Predictive agent (river, statsmodels) loads only in a scorer
    from selfheal_ml.agents.checkpointed_scoring import PartitionFilter

log = logging.getLogger("selfheal_ml.agent_process")


def parse_agents(text: str) -> tuple[str, ...]:
    """``none``, ``all`` or comma-separated agent names (any case) as canonical names.

    >>> parse_agents("monitor,Repair")
    ('Monitor', 'Repair')
    >>> parse_agents("none")
    ()
    """
    return agent_names(() if text == "none" else AGENT_NAMES if text == "all" else text.split(","))


def agent_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as canonical agent names, in start-up order; ``ConfigError`` on an unknown one."""
    by_lower = {name.lower(): name for name in AGENT_NAMES}
    chosen: set[str] = set()
    for name in names:
        canonical = by_lower.get(name.strip().lower())
        if canonical is None:
            raise ConfigError("agents", f"none, all or names among {', '.join(AGENT_NAMES)}", name)
        chosen.add(canonical)
    return tuple(name for name in AGENT_NAMES if name in chosen)


def parse_partition(text: str) -> PartitionFilter:
    """``K/N`` (0-based ``K``) as a :class:`PartitionFilter`.

    >>> parse_partition("1/2")
    PartitionFilter(index=1, count=2)
    """
    from selfheal_ml.agents.checkpointed_scoring import PartitionFilter

    try:
        index, count = (int(part) for part in text.split("/"))
        return PartitionFilter(index, count)
    except ValueError:
        raise ConfigError("--partition", "K/N with 0 <= K < N", text) from None


def with_agents(settings: Settings, names: Sequence[str]) -> Settings:
    """``settings`` with exactly ``names`` enabled (each agent's other settings kept)."""
    toggles = {
        name.lower(): getattr(settings.agents, name.lower()).model_copy(
            update={"enabled": name in names}
        )
        for name in AGENT_NAMES
    }
    return settings.model_copy(update={"agents": settings.agents.model_copy(update=toggles)})


def build_agent_runtime(
    settings: Settings, names: Sequence[str], partition: PartitionFilter | None = None
) -> Runtime:
    """The runtime of an agent process: only ``names``, on the shared bus of ``settings``."""
    if not is_redis_address(settings.bus):
        raise ConfigError("--bus", "a redis:// URL shared with the API process", settings.bus)
    tag = partition_tag(partition)
    # the consumer name belongs to the partition (one owner at a time, by lease): whichever
    # process owns it next re-reads the entries the last owner left pending, at once
    consumer = f"Predictive-{tag}" if partition else None
    bus = build_bus(settings.bus, prefix=settings.bus_prefix, consumer=consumer, group_tag=tag)
    extras = {"score_filter": partition} if partition else None
    runtime = build_runtime(with_agents(settings, names), bus=bus, extras=extras)
    predictive = runtime.agents.get("Predictive")
    if partition is not None and predictive is not None:
        from selfheal_ml.agents.checkpointed_scoring import CheckpointedPredictiveAgent
        from selfheal_ml.scoring.checkpoint import RedisCheckpoint

        key = f"{settings.bus_prefix}:checkpoint:Predictive:{tag}"
        agent = CheckpointedPredictiveAgent(
            predictive.agent.context, RedisCheckpoint(settings.bus, key)
        )
        runtime.agents["Predictive"] = SupervisedAgent(
            agent,
            bus,
            max_failures=predictive.max_failures,
            backoff_base_s=predictive.backoff_base_s,
        )
    return runtime


def partition_tag(partition: PartitionFilter | None) -> str:
    """``pKofN`` (empty without a partition): names the partition's groups, lease, checkpoint."""
    return f"p{partition.index}of{partition.count}" if partition else ""


async def _until_stopped(work: Coroutine[Any, Any, None], stopping: asyncio.Event) -> bool:
    """Run ``work`` until it ends or ``stopping`` is set; whether ``work`` ended first (its
    exception, if it raised, propagates)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
    if task.cancelled():
        return False
    task.result()
    return True


async def run_agent_process(
    settings: Settings,
    names: Sequence[str],
    *,
    partition: PartitionFilter | None = None,
    scheduler: bool = False,
) -> int:
    """Run ``names`` until SIGTERM or SIGINT, then stop cleanly (checkpoints flushed); the exit
    code: 0, or 1 when a scorer lost its partition's lease (its supervisor restarts it)."""
    from selfheal_ml.bus.redis_streams import default_consumer
    from selfheal_ml.scoring.lease import LeaseLostError, PartitionLease

    runtime = build_agent_runtime(settings, names, partition)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    lease = None
    if partition is not None:
        key = f"{settings.bus_prefix}:lease:Predictive:{partition_tag(partition)}"
        lease = PartitionLease(settings.bus, key, default_consumer())
        log.info("waiting for the lease of partition %s", partition_tag(partition))
        if not await _until_stopped(lease.acquire(), stopping):
            await runtime.stop()  # built, never started
            return 0
    await start_runtime(runtime, run_scheduler=scheduler, host_services=False)
    log.info("agent process running %s on %s", ", ".join(names), settings.bus)
    code = 0
    try:
        if lease is None:
            await stopping.wait()
        else:
            await _until_stopped(lease.keep(), stopping)  # keep() ends only by raising
    except LeaseLostError as exc:
        log.error("%s: stopping, another process may own the partition now", exc)
        code = 1
    finally:
        with contextlib.suppress(Exception):
            await runtime.stop()
        if lease is not None:
            with contextlib.suppress(Exception):
                await lease.release()
    return code
