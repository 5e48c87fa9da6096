"""Start and restart serve against a healthy sim serve: no alert, incident or anomaly.

Starts both as real processes (health checks and metrics every ``--interval`` s, the service's
other defaults), watches the first ``--watch`` seconds after the start and after each of
``--restarts`` restarts of the service (same DuckDB file, same simulator), and reports what
started in each phase. Exit code 0 when every phase was quiet, 1 when not, 2 for bad
arguments.

    python pipelines/live_quiet_start.py --watch 300 --restarts 1 --out results/quiet.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from selfheal_ml.errors import SelfHealError

# the live stack loads after argparse: --help is instant

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """Errors are one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--watch", type=float, default=300.0, help="seconds watched per phase")
    parser.add_argument("--restarts", type=int, default=1, help="service restarts watched (1)")
    parser.add_argument("--interval", type=float, default=5.0, help="health check interval, s")
    parser.add_argument("--seed", type=int, default=0, help="the simulator's seed")
    parser.add_argument(
        "--out", type=Path, default=Path("results/live_quiet_start.json"), help="JSON report"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the DuckDB file and logs here",
    )
    args = parser.parse_args(argv)
    if args.watch <= 0:
        parser.error(f"--watch: expected > 0 s, got {args.watch}")
    if args.restarts < 0:
        parser.error(f"--restarts: expected >= 0, got {args.restarts}")
    if args.interval <= 0:
        parser.error(f"--interval: expected > 0 s, got {args.interval}")
    return args


def _workdir(keep: Path | None, cleanup: contextlib.ExitStack) -> Path:
    """The stack's folder: ``--keep``'s (created), else a temporary one removed at the end."""
    if keep is None:
        return Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="live-quiet-")))
    keep.mkdir(parents=True, exist_ok=True)
    return keep


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from selfheal_ml.live.quiet import quiet_starts
    from selfheal_ml.live.stack import LiveStack

    interval = str(args.interval)
    timing = {"SELFHEAL_HEALTH_CHECK_INTERVAL_S": interval, "SELFHEAL_METRICS_INTERVAL_S": interval}
    since = datetime.now(UTC)
    try:
        with (
            contextlib.ExitStack() as cleanup,
            LiveStack(_workdir(args.keep, cleanup), seed=args.seed, timing=timing) as stack,
        ):
            phases = quiet_starts(stack, since, args.watch, args.restarts, not args.quiet)
    except SelfHealError as error:
        print(f"{Path(sys.argv[0]).name}: error: {error}", file=sys.stderr)
        return 1
    for phase in phases:
        print(
            f"{phase.name:<10} {phase.watched_s:.0f} s: {len(phase.alerts)} alerts,"
            f" {len(phase.incidents)} incidents, {len(phase.anomalies)} anomalies"
            f" {sorted(set(phase.alerts))}"
        )
    report = {"interval_s": args.interval, "phases": [phase.as_dict() for phase in phases]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    print(f"report written to {args.out}")
    return 0 if all(phase.quiet for phase in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
