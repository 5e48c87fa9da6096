"""The fault-injection benchmark: the whole closed loop against the simulator's ground truth.

Usage:

    python pipelines/chaos_benchmark.py [--days 21] [--faults 200] [--seed 1001]
        [--out results/chaos.json] [--interval 30] [--approve-after 300 | --no-approver]
        [--attacks N]

Runs the five simulated platforms in virtual time with every agent on (Monitor, Predictive,
Diagnostic, Repair with the one safety guard, Learning, ...) and a reproducible schedule of
injected faults of every kind, with fault-free stretches between them (the first day is always
fault-free). High-risk repairs wait for approval; a simulated on-call approves them after
"--approve-after" simulated seconds ("--no-approver": nobody does, they expire and escalate).
"--attacks N" adds Scenario 3: N attacks in an access log the Security agent tails, scored
against their ground truth (the report's "security" object; docs/security.md).

Writes a JSON report (the figures of selfheal_ml.evaluation.chaos, then one entry per
fault), prints a table, and logs the figures to MLflow (experiment "self-healing"). Rates are
fractions of all injected faults; times are simulated seconds. Seeds used by the test suite are
below 1000; benchmark seeds are 1000 and above.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from selfheal_ml.errors import ConfigError, ValidationError

# the package's heavy modules (the runtime, MLflow) load in main(), after argparse: --help is
# instant

EXPERIMENT = "self-healing"
HEADLINE = (
    "faults_injected", "detection_rate", "mttd_median_s", "mttd_p95_s", "root_cause_accuracy",
    "first_repair_accuracy", "auto_resolution_rate", "auto_resolution_rate_low_risk",
    "resolution_rate", "mttr_median_s",
    "mttr_p95_s", "mttr_auto_median_s", "mttr_auto_p95_s", "false_alarms_per_platform_day",
    "repairs_on_healthy", "loops_stopped", "escalations",
)  # fmt: skip


#: the package's names for the arguments, so an error from below names the argument
ARGUMENT_OF = {
    "n_faults": "--faults",
    "days": "--days",
    "chunk_s": "--interval",
    "kinds": "--kinds",
    "attacks": "--attacks",
}
EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (no usage block), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


CHECK_INTERVAL_S = 30.0
"""The service's own health-check interval (``[intervals] health_check_s``): the benchmark
measures the product as it runs (not imported here, so that ``--help`` stays quick)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=21.0, help="simulated days (21)")
    parser.add_argument("--faults", type=int, default=200, help="faults injected (200)")
    parser.add_argument("--seed", type=int, default=1001, help="seed (1000 and up)")
    parser.add_argument(
        "--out", type=Path, default=Path("results/chaos.json"), help="JSON report file"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=CHECK_INTERVAL_S,
        help="health check every this many simulated s (30, the service's default)",
    )
    parser.add_argument(
        "--warmup-days", type=float, default=2.0, help="fault-free history first (2)"
    )
    parser.add_argument(
        "--approve-after",
        type=float,
        default=300.0,
        help="simulated s before the simulated on-call approves a high-risk repair (300)",
    )
    parser.add_argument(
        "--no-approver", action="store_true", help="nobody approves: they expire, escalate"
    )
    parser.add_argument("--db", type=Path, default=None, help="default: a temporary file")
    parser.add_argument("--no-tracking", action="store_true", help="log nothing to MLflow")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--kinds",
        default=None,
        help="comma-separated fault kinds to inject (default: the whole catalogue), "
        "for studying one kind of fault",
    )
    parser.add_argument(
        "--attacks",
        type=int,
        default=0,
        help="Scenario 3: attacks (six kinds in turn, plus one per brute_force_login fault) in "
        "the access log the Security agent tails every 10 simulated s (0, the default: no "
        "access log; 42 for 21 days: about 1.5x the CPU time)",
    )
    args = parser.parse_args(argv)
    if args.attacks < 0:
        parser.error(f"--attacks: expected zero or more attacks, got {args.attacks}")
    for name in ("days", "faults", "interval", "approve_after"):
        if getattr(args, name) <= 0:
            given = getattr(args, name)
            parser.error(f"--{name.replace('_', '-')}: expected a positive number, got {given}")
    if args.warmup_days < 0:
        parser.error(f"--warmup-days: expected zero or more days, got {args.warmup_days}")
    return args


def _named(error: ValidationError | ConfigError) -> str:
    """The error in one line, naming the command-line argument behind a package's field."""
    if isinstance(error, ValidationError) and error.field in ARGUMENT_OF:
        return f"{ARGUMENT_OF[error.field]}: {error.problem}"
    return str(error)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from selfheal_ml.attack_scenario import summary_lines
    from selfheal_ml.config import load_settings
    from selfheal_ml.demo import DemoOptions, log_demo_run, run_demo, summary_table
    from selfheal_ml.tracking import Tracker

    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"{Path(sys.argv[0]).name}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="chaos-") as scratch:
        # the run's own model registry: what the Learning agent trains and promotes on
        # simulated incidents must neither reach nor depend on the user's mlruns/
        run_settings = settings.model_copy(
            update={"mlflow_tracking_uri": f"sqlite:///{Path(scratch) / 'mlflow.db'}"}
        )
        options = DemoOptions(
            days=args.days,
            seed=args.seed,
            faults=args.faults,
            db_path=str(args.db or Path(scratch) / "chaos.duckdb"),
            progress=not args.quiet,
            warmup_days=args.warmup_days,
            check_interval_s=args.interval,
            approve_after_s=None if args.no_approver else args.approve_after,
            # the run's own registry above: the Learning agent trains and promotes there and
            # the Repair agent asks that @champion, as in the service
            use_champion=True,
            kinds=None if args.kinds is None else tuple(args.kinds.split(",")),
            attacks=args.attacks,
        )
        try:
            result = asyncio.run(run_demo(run_settings, options))
        except (ValidationError, ConfigError) as error:
            print(f"{Path(sys.argv[0]).name}: error: {_named(error)}", file=sys.stderr)
            return EXIT_USAGE
    report = result.report()
    report["benchmark"] = {
        "interval_s": args.interval,
        "approve_after_s": options.approve_after_s,
        "warmup_days": args.warmup_days,
    }
    print(summary_table(result))
    width = max(len(key) for key in HEADLINE)
    shown = {key: "-" if report[key] is None else report[key] for key in HEADLINE}
    print("\n" + "\n".join(f"{key:<{width}}  {shown[key]}" for key in HEADLINE))
    if result.security is not None:
        print("\nScenario 3 (simulated seconds from each attack's start):")
        print("\n".join(summary_lines(result.security)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", "utf-8")
    print(f"report written to {args.out}")
    if not args.no_tracking:
        tracker = Tracker(settings.mlflow_tracking_uri)
        run_id = log_demo_run(tracker, result, EXPERIMENT, f"chaos-seed-{args.seed}")
        print(f"MLflow run {run_id} in experiment {EXPERIMENT!r} ({settings.mlflow_tracking_uri})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
