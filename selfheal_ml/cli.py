"""The ``selfheal-ml`` command line.

    selfheal-ml demo [--days N] [--seed S] [--faults N] [--report FILE] [--db FILE]
                     [--approve-after S] [--scoring-workers N] [--use-champion]
    selfheal-ml serve [--host H] [--port P] [--config FILE] [--dev]
                      [--agents none|all|NAME,...] [--bus URL]
    selfheal-ml agent run NAME... [--bus URL] [--partition K/N] [--scheduler] [--config FILE]
    selfheal-ml sim serve [--host H] [--port P] [--seed S] [--access-log FILE]
                          [--decisions-url URL]
    selfheal-ml train repair [--write-card] [--incidents N] ... (see --help)
    selfheal-ml security replay FILE [--format auto|sshd|pam|combined|jsonl] [--json]
                     [--year YEAR] [--dry-run] [--config FILE]
    selfheal-ml config show [--config FILE]
    selfheal-ml analyze postgres --dsn DSN [--seconds N] [--json] [--redis URL]
    selfheal-ml version

Every command takes --log-level before it (selfheal-ml --log-level DEBUG serve ...).

A bad setting stops start-up with exit code 2 and one line naming the setting.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selfheal_ml import __version__
from selfheal_ml.errors import ConfigError
from selfheal_ml.repair_training_options import add_arguments as add_training_arguments

if TYPE_CHECKING:  # the package's heavy modules load after argparse, so --help is instant
    from selfheal_ml.config import Settings

EXIT_CONFIG = 2
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# loggers that speak once per request: every probe, scrape and dashboard poll (DEBUG shows them)
CHATTY_LOGGERS = ("httpx", "httpcore", "uvicorn.access")


def configure_logging(level: str) -> None:
    """The service's own INFO lines (agents starting, incidents, repairs) without the
    per-request lines of the HTTP client and server, which only ``--log-level DEBUG`` shows."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    chatty = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty)


def listening(what: str, host: str, port: int, extra: str = "") -> None:
    """One line saying where a server listens, printed before it starts accepting."""
    shown = f"[{host}]" if ":" in host else host
    print(f"{what} listening on http://{shown}:{port}{extra} (Ctrl-C stops it)", flush=True)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from selfheal_ml.api import create_app
    from selfheal_ml.api.server_limits import server_limits
    from selfheal_ml.heap import long_lived_heap_frozen

    settings = _cluster_settings(args, settings)
    app = create_app(settings, dev=args.dev)
    listening("selfheal-ml serve:", args.host, args.port, ", dashboard at /admin/")
    with long_lived_heap_frozen():  # the imported libraries stay off the collector's scans
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level.lower(),
            **server_limits(settings.limits),  # slow or idle clients cannot hold connections
        )
    return 0


def _cluster_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """``settings`` with ``--bus`` and ``--agents`` applied (both optional)."""
    from selfheal_ml.agent_process import parse_agents, with_agents

    if getattr(args, "bus", None):
        settings = settings.model_copy(update={"bus": args.bus})
    if getattr(args, "agents", None):
        settings = with_agents(settings, parse_agents(args.agents))
    return settings


def _agent_run(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from selfheal_ml.agent_process import agent_names, parse_partition, run_agent_process

    settings = _cluster_settings(args, settings)
    names = agent_names(args.names)
    partition = parse_partition(args.partition) if args.partition else None
    if partition is not None and names != ("Predictive",):
        raise ConfigError("--partition", "only with the Predictive agent alone", args.names)
    return asyncio.run(
        run_agent_process(settings, names, partition=partition, scheduler=args.scheduler)
    )


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from selfheal_ml.demo import DemoOptions, log_demo_run, run_demo, summary_table
    from selfheal_ml.tracking import Tracker

    for name in ("days", "faults", "interval"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise ConfigError(f"--{name}", "a positive number", value)
    if args.warmup_days < 0:
        raise ConfigError("--warmup-days", "zero or more days", args.warmup_days)
    if args.approve_after < 0:
        raise ConfigError("--approve-after", "zero or more seconds", args.approve_after)
    if args.scoring_workers < 0:
        raise ConfigError("--scoring-workers", "zero or more processes", args.scoring_workers)
    options = DemoOptions(
        days=args.days,
        seed=args.seed,
        faults=args.faults,
        db_path=args.db,
        warmup_days=args.warmup_days,
        check_interval_s=args.interval,
        approve_after_s=args.approve_after or None,
        scoring_workers=args.scoring_workers,
        use_champion=args.use_champion,
    )
    # (the Monitor's requests to the in-process simulator, a dozen per simulated minute, are
    # logged only at --log-level DEBUG: configure_logging)
    result = asyncio.run(run_demo(settings, options))
    run_id = log_demo_run(Tracker(settings.mlflow_tracking_uri), result)
    print(summary_table(result))
    print(json.dumps(result.dashboard, indent=2))
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(result.report(), indent=2) + "\n", "utf-8")
        print(f"report written to {args.report}")
    print(f"DuckDB file left for the notebook: {options.db_path}")
    print(f"MLflow run {run_id} in experiment 'selfheal-demo' ({settings.mlflow_tracking_uri})")
    return 0


def _announce_demo(args: argparse.Namespace) -> None:
    """The demo's first line, printed before anything heavy is imported."""
    print(
        f"selfheal-ml demo: loading, then {args.warmup_days:g} simulated days of fault-free"
        f" history and {args.days:g} days of faults (progress below)",
        flush=True,
    )


def _sim_serve(args: argparse.Namespace, settings: Settings) -> int:
    from selfheal_ml.sim.server import serve_simulator

    listening("selfheal-ml sim serve: five simulated platforms", args.host, args.port)
    serve_simulator(
        host=args.host,
        port=args.port,
        seed=args.seed,
        access_log=args.access_log,
        decisions_url=args.decisions_url,
        decisions_key=os.environ.get("SELFHEAL_SIM_DECISIONS_KEY"),
    )
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from selfheal_ml.training.pipeline import options_from_args, run_main

    if args.tracking_uri is None:
        args.tracking_uri = settings.mlflow_tracking_uri
    return run_main(options_from_args(args))


def _security_replay(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from selfheal_ml.security.ban_policy import BanPolicy
    from selfheal_ml.security.detector import AttackDetector
    from selfheal_ml.security.formats import LogFormat
    from selfheal_ml.security.replay import replay_lines
    from selfheal_ml.security.replay_text import render_text

    path = Path(args.file)
    if not path.is_file():
        raise ConfigError("FILE", "an existing log file", str(path))
    # syslog stamps have no year: the file's modification time dates them, unless --year does
    reference = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if args.year is not None:
        reference = datetime(args.year, 12, 31, 23, 59, 59, tzinfo=UTC)
    security = settings.security
    if args.dry_run:
        security = security.model_copy(update={"dry_run": True})
    with path.open(encoding="utf-8", errors="replace") as lines:
        report = replay_lines(
            lines,
            reference=reference,
            log_format=LogFormat(args.format),
            detector=AttackDetector(security.detection_rules()),
            policy=BanPolicy(security.ban_settings(), security.never_ban_list()),
        )
    print(json.dumps(report.as_dict(), indent=2) if args.json else render_text(report))
    return 0


def _config_show(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(settings.masked(), indent=2))
    return 0


def _analyze_postgres(args: argparse.Namespace, settings: Settings | None) -> int:
    """Watch the database for ``--seconds`` and print its performance findings (read-only)."""
    import asyncio

    import psycopg
    from redis.exceptions import RedisError

    from selfheal_ml.collectors.postgres_analysis import PostgresAnalyser

    if not args.seconds > 0:
        print(f"selfheal-ml: --seconds: expected > 0, got {args.seconds}", file=sys.stderr)
        return EXIT_CONFIG
    analyser = PostgresAnalyser(
        args.dsn, sample_interval_s=args.sample_interval, redis_url=args.redis
    )
    try:
        result = asyncio.run(analyser.watch(args.seconds))
    except (psycopg.Error, OSError, RedisError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(f"selfheal-ml: cannot analyse the database: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    if args.json:
        print(json.dumps([finding.as_record() for finding in result.findings], indent=2))
        return 0
    print(
        f"Watched {args.seconds:g} s (statistics: {result.statements_source}; HypoPG:"
        f" {'yes' if result.hypopg else 'no'}; {result.queries} queries and"
        f" {result.samples} pg_stat_activity samples)"
    )
    for number, finding in enumerate(result.findings, start=1):
        where = ", ".join(filter(None, (finding.table, finding.index)))
        print(f"{number}. {finding.kind}{f' [{where}]' if where else ''}: {finding.summary}")
        if finding.query:
            print(f"   query: {finding.query[:200]}")
        facts = ", ".join(f"{name}={value}" for name, value in finding.evidence.items())
        print(f"   evidence: {facts}")
        if finding.recommendation:
            print(f"   recommendation: {finding.recommendation}")
    if not result.findings:
        print("No performance problem found.")
    return 0


def _version(args: argparse.Namespace, settings: Settings | None) -> int:
    print(f"selfheal-ml {__version__}")
    return 0


def _add_config(parser: argparse.ArgumentParser, what: str = "settings and targets") -> None:
    parser.add_argument("--config", metavar="FILE", help=f"TOML file with {what}")
    _add_log_level(parser, argparse.SUPPRESS)


def _add_log_level(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=default,
        help="INFO (default): what the agents do; DEBUG adds every probe, scrape and request",
    )


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the API, the dashboard and the agents")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    _add_config(serve)
    serve.add_argument(
        "--dev", action="store_true", help="allow running without an admin token (admin open)"
    )
    serve.add_argument(
        "--agents", help="agents in this process: none, all (default) or NAME,NAME,..."
    )
    serve.add_argument("--bus", help="memory (default) or redis://host:port/db (SELFHEAL_BUS)")
    serve.set_defaults(handler=_serve)


def _add_agent(commands: Any) -> None:
    agent = commands.add_parser("agent", help="agents as processes on a shared bus")
    agent_commands = agent.add_subparsers(dest="agent_command", required=True)
    agent_run = agent_commands.add_parser("run", help="run these agents in this process")
    agent_run.add_argument("names", nargs="+", help="agent names, e.g. Diagnostic Repair")
    agent_run.add_argument("--bus", help="redis://host:port/db (default: SELFHEAL_BUS)")
    agent_run.add_argument(
        "--partition", help="K/N: score partition K of N series shares (Predictive only)"
    )
    agent_run.add_argument(
        "--scheduler", action="store_true", help="publish the ticks here (one process only)"
    )
    _add_config(agent_run)
    agent_run.set_defaults(handler=_agent_run)


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run the system against the simulator, virtual time")
    demo.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    demo.add_argument("--seed", type=int, default=42, help="seed of the faults and platforms")
    demo.add_argument("--faults", type=int, default=None, help="faults to inject (default 2/day)")
    demo.add_argument("--report", metavar="FILE", help="write the summary as JSON to this file")
    demo.add_argument(
        "--db", default="data/demo.duckdb", help="DuckDB file, recreated (data/demo.duckdb)"
    )
    demo.add_argument(
        "--warmup-days", type=float, default=2.0, help="fault-free history before the run (2)"
    )
    demo.add_argument(
        "--interval", type=float, default=60.0, help="simulated s between health checks (60)"
    )
    demo.add_argument(
        "--approve-after",
        type=float,
        default=300.0,
        help="simulated s after which a simulated on-call approves high-risk repairs"
        " (default 300; 0: nobody approves, they expire and escalate)",
    )
    demo.add_argument(
        "--scoring-workers",
        type=int,
        default=1,
        help="extra processes that score a share of the series in parallel (default 1: two"
        " cores; 0: everything in one process)",
    )
    demo.add_argument(
        "--use-champion",
        action="store_true",
        help="let the local MLflow store's repair-strategy @champion advise the repairs"
        " (default: the shipped rules and playbooks only, so the figures do not depend on"
        " what was trained on this machine)",
    )
    _add_config(demo, "settings")
    demo.set_defaults(handler=_demo, announce=_announce_demo)


def _add_sim(commands: Any) -> None:
    sim = commands.add_parser("sim", help="the platform simulator")
    sim_commands = sim.add_subparsers(dest="sim_command", required=True)
    sim_serve = sim_commands.add_parser("serve", help="run the five platforms over HTTP")
    sim_serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sim_serve.add_argument("--port", type=int, default=8700, help="port to listen on (8700)")
    sim_serve.add_argument("--seed", type=int, default=0, help="seed of the platforms' noise")
    sim_serve.add_argument(
        "--access-log",
        metavar="FILE",
        default=None,
        help="write the platforms' access/auth log (JSON lines)",
    )
    sim_serve.add_argument(
        "--decisions-url",
        metavar="URL",
        default=None,
        help="honour this selfheal-ml service's bans (key in SELFHEAL_SIM_DECISIONS_KEY)",
    )
    _add_log_level(sim_serve, argparse.SUPPRESS)
    sim_serve.set_defaults(handler=_sim_serve)


def _add_train(commands: Any) -> None:
    train = commands.add_parser("train", help="train models")
    train_commands = train.add_subparsers(dest="train_command", required=True)
    train_repair = train_commands.add_parser(
        "repair",
        help="train the repair-strategy classifier (as pipelines/train_repair_classifier.py)",
        description="Simulate incident histories, train and log the candidates to MLflow,"
        " register the best and promote it to @champion when it beats the current one."
        " Tracked files are left alone unless --write-card or --card asks for the model card.",
    )
    add_training_arguments(train_repair)
    _add_config(train_repair, "settings (the MLflow store)")
    train_repair.set_defaults(handler=_train)


def _add_security(commands: Any) -> None:
    security = commands.add_parser("security", help="log-based attack detection")
    security_commands = security.add_subparsers(dest="security_command", required=True)
    replay = security_commands.add_parser(
        "replay",
        help="replay a log on its own timestamps and print every ban decision"
        " and the sources seen but not blocked",
    )
    replay.add_argument("file", help="the log file")
    replay.add_argument(
        "--format",
        choices=["auto", "sshd", "pam", "combined", "jsonl"],
        default="auto",
        help="the log's format (default auto: guessed from its lines)",
    )
    replay.add_argument("--json", action="store_true", help="print the report as JSON")
    replay.add_argument(
        "--year", type=int, help="year of syslog stamps (default: from the file's mtime)"
    )
    replay.add_argument("--dry-run", action="store_true", help="record bans as would-ban")
    _add_config(replay, "[security] settings")
    replay.set_defaults(handler=_security_replay)


def _add_config_show(commands: Any) -> None:
    config = commands.add_parser("config", help="inspect the configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    show = config_commands.add_parser("show", help="print the effective configuration")
    _add_config(show)
    show.set_defaults(handler=_config_show)


def _add_analyze(commands: Any) -> None:
    analyze = commands.add_parser("analyze", help="analyse a live system, changing nothing")
    analyze_commands = analyze.add_subparsers(dest="analyze_command", required=True)
    postgres = analyze_commands.add_parser(
        "postgres", help="watch a PostgreSQL database and report its performance problems"
    )
    postgres.add_argument("--dsn", required=True, help="libpq connection string or URL")
    postgres.add_argument(
        "--seconds", type=float, default=60.0, help="how long to watch (default 60)"
    )
    postgres.add_argument(
        "--sample-interval",
        type=float,
        default=0.1,
        help="seconds between looks at pg_stat_activity (default 0.1)",
    )
    postgres.add_argument("--redis", metavar="URL", help="also read this Redis' INFO")
    postgres.add_argument("--json", action="store_true", help="print the findings as JSON")
    _add_log_level(postgres, argparse.SUPPRESS)
    postgres.set_defaults(handler=_analyze_postgres, needs_settings=False)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="selfheal-ml",
        description="A self-healing service for web backends: seven agents watch HTTP"
        " services, their PostgreSQL, Redis and logs, diagnose, repair and learn.",
        epilog="A bad setting stops start-up with exit code 2 and one line naming it."
        " Each command has its own --help.",
    )
    _add_log_level(parser, "INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_serve, _add_agent, _add_demo, _add_sim, _add_train, _add_security):
        add(commands)
    _add_config_show(commands)
    _add_analyze(commands)
    version = commands.add_parser("version", help="print the version")
    version.set_defaults(handler=_version, needs_settings=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    if not getattr(args, "needs_settings", True):
        plain: Callable[[argparse.Namespace, Settings | None], int] = args.handler
        return plain(args, None)
    announce: Callable[[argparse.Namespace], None] | None = getattr(args, "announce", None)
    if announce is not None:
        announce(args)
    from selfheal_ml.config import load_settings

    try:
        settings = load_settings(getattr(args, "config", None))
        return handler(args, settings)
    except ConfigError as exc:
        print(f"selfheal-ml: {exc}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
