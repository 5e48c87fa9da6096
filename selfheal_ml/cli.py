"""The ``selfheal-ml`` command line.

    selfheal-ml demo [--days N] [--seed S] [--faults N] [--report FILE] [--db FILE]
                     [--approve-after S] [--scoring-workers N]
    selfheal-ml serve [--host H] [--port P] [--config FILE] [--dev]
    selfheal-ml sim serve [--host H] [--port P] [--seed S] [--access-log FILE]
                          [--decisions-url URL]
    selfheal-ml train repair [pipeline arguments]
    selfheal-ml security replay FILE [--format auto|sshd|pam|combined|jsonl] [--json]
                     [--year YEAR] [--dry-run] [--config FILE]
    selfheal-ml config show [--config FILE]
    selfheal-ml analyze postgres --dsn DSN [--seconds N] [--json] [--redis URL]
    selfheal-ml version

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

from selfheal_ml import __version__
from selfheal_ml.config import Settings, load_settings
from selfheal_ml.errors import ConfigError
from selfheal_ml.heap import long_lived_heap_frozen

EXIT_CONFIG = 2


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from selfheal_ml.api import create_app
    from selfheal_ml.api.server_limits import server_limits

    app = create_app(settings, dev=args.dev)
    with long_lived_heap_frozen():  # the imported libraries stay off the collector's scans
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level="info",
            **server_limits(settings.limits),  # slow or idle clients cannot hold connections
        )
    return 0


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
    )
    # the Monitor's requests go to the in-process simulator, a dozen per simulated minute:
    # logged one by one, as httpx does at INFO, they would flood the terminal
    logging.getLogger("httpx").setLevel(logging.WARNING)
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


def _sim_serve(args: argparse.Namespace, settings: Settings) -> int:
    from selfheal_ml.sim.server import serve_simulator

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
    from selfheal_ml.training import main as train_main

    extra = list(args.pipeline_args)  # everything selfheal-ml itself does not know
    if "--tracking-uri" not in extra:
        extra += ["--tracking-uri", settings.mlflow_tracking_uri]
    return train_main(extra)


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    parser = argparse.ArgumentParser(prog="selfheal-ml", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API and the agents")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--config", help="TOML file with settings and targets")
    serve.add_argument("--dev", action="store_true", help="allow running without an admin token")
    serve.set_defaults(handler=_serve)

    demo = commands.add_parser("demo", help="run the system against the simulator, virtual time")
    demo.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--faults", type=int, default=None, help="faults to inject (default 2/day)")
    demo.add_argument("--report", help="write the summary as JSON to this file")
    demo.add_argument("--db", default="data/demo.duckdb", help="DuckDB file (recreated)")
    demo.add_argument(
        "--warmup-days", type=float, default=2.0, help="fault-free history before the run"
    )
    demo.add_argument(
        "--interval", type=float, default=60.0, help="seconds between health checks (default 60)"
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
    demo.add_argument("--config", help="TOML file with settings")
    demo.set_defaults(handler=_demo)

    sim = commands.add_parser("sim", help="the platform simulator")
    sim_commands = sim.add_subparsers(dest="sim_command", required=True)
    sim_serve = sim_commands.add_parser("serve", help="run the five platforms over HTTP")
    sim_serve.add_argument("--host", default="127.0.0.1")
    sim_serve.add_argument("--port", type=int, default=8700)
    sim_serve.add_argument("--seed", type=int, default=0)
    sim_serve.add_argument(
        "--access-log", default=None, help="write the platforms' access/auth log (JSON lines)"
    )
    sim_serve.add_argument(
        "--decisions-url",
        default=None,
        help="honour this selfheal-ml service's bans (key in SELFHEAL_SIM_DECISIONS_KEY)",
    )
    sim_serve.set_defaults(handler=_sim_serve)

    train = commands.add_parser("train", help="train models")
    train_commands = train.add_subparsers(dest="train_command", required=True)
    train_repair = train_commands.add_parser(
        "repair",
        help="train the repair-strategy classifier (same arguments as the pipeline script)",
    )
    train_repair.add_argument("--config", help="TOML file with settings")
    train_repair.set_defaults(handler=_train)

    security = commands.add_parser("security", help="log-based attack detection")
    security_commands = security.add_subparsers(dest="security_command", required=True)
    replay = security_commands.add_parser(
        "replay",
        help="replay a log on its own timestamps and print every ban decision"
        " and the sources seen but not blocked",
    )
    replay.add_argument("file", help="the log file")
    replay.add_argument(
        "--format", choices=["auto", "sshd", "pam", "combined", "jsonl"], default="auto"
    )
    replay.add_argument("--json", action="store_true", help="print the report as JSON")
    replay.add_argument(
        "--year", type=int, help="year of syslog stamps (default: from the file's mtime)"
    )
    replay.add_argument("--dry-run", action="store_true", help="record bans as would-ban")
    replay.add_argument("--config", help="TOML file with [security] settings")
    replay.set_defaults(handler=_security_replay)

    config = commands.add_parser("config", help="inspect the configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    show = config_commands.add_parser("show", help="print the effective configuration")
    show.add_argument("--config", help="TOML file with settings and targets")
    show.set_defaults(handler=_config_show)

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
    postgres.add_argument("--redis", help="also read this Redis' INFO (redis://...)")
    postgres.add_argument("--json", action="store_true", help="print the findings as JSON")
    postgres.set_defaults(handler=_analyze_postgres, needs_settings=False)

    version = commands.add_parser("version", help="print the version")
    version.set_defaults(handler=_version, needs_settings=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "train":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.pipeline_args = unknown
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    if not getattr(args, "needs_settings", True):
        plain: Callable[[argparse.Namespace, Settings | None], int] = args.handler
        return plain(args, None)
    try:
        settings = load_settings(getattr(args, "config", None))
        return handler(args, settings)
    except ConfigError as exc:
        print(f"selfheal-ml: {exc}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
