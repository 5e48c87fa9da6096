"""A live soak: N faults through POST /sim/faults against the real processes, scored.

Usage::

    python pipelines/live_soak.py [--faults 11] [--interval 10] [--timeout 300]
        [--approve-after S] [--kinds service_crash,slow_query,...] [--seed 0]
        [--sim-url URL --service-url URL [--admin-token T]] [--out results/live_soak.json]
        [--check-interval S]

Without ``--sim-url``/``--service-url`` it starts ``selfheal-ml sim serve`` and
``selfheal-ml serve --dev`` itself (free ports, a temporary DuckDB file and MLflow store, the
loop timed in seconds) and stops them at the end; with both it attaches to running ones.
Faults of the catalogue's kinds are injected one after another, each waited for until the
simulator says it ended (repaired, or expired after ``--timeout`` s); the report has the chaos
benchmark's keys (rates over all injected faults, times in wall-clock seconds), then one entry
per fault. Opt-in: not run in CI. A bad argument is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from selfheal_ml.errors import SelfHealError, ValidationError

if TYPE_CHECKING:  # the live stack and its clients load after argparse: --help is instant
    from selfheal_ml.live.soak import SoakOptions

EXIT_USAGE = 2
HEADLINE = (
    "faults_injected", "detection_rate", "mttd_median_s", "root_cause_accuracy",
    "first_repair_accuracy", "resolution_rate", "auto_resolution_rate",
    "auto_resolution_rate_low_risk", "mttr_median_s", "repairs_on_healthy", "escalations",
)  # fmt: skip


class OneLineParser(argparse.ArgumentParser):
    """Errors are one line on stderr (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, SoakOptions]:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=11, help="faults to inject (11)")
    parser.add_argument("--interval", type=float, default=10.0, help="pause between faults, s")
    parser.add_argument("--timeout", type=float, default=300.0, help="wait per fault, s")
    parser.add_argument("--approve-after", type=float, default=None, help="approve after S s")
    parser.add_argument("--kinds", default="", help="comma-separated kinds (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the faults' order")
    parser.add_argument("--sim-url", help="attach to this running simulator (with --service-url)")
    parser.add_argument("--service-url", help="attach to this running service (with --sim-url)")
    parser.add_argument("--admin-token", help="the attached service's admin token")
    parser.add_argument(
        "--out", type=Path, default=Path("results/live_soak.json"), help="JSON report file"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--check-interval",
        type=float,
        default=None,
        help="started stack: health checks and metrics every S s with the service's other"
        " defaults (default: the live test's timing, every 2 s with a short loop)",
    )
    args = parser.parse_args(argv)
    if args.check_interval is not None and args.check_interval <= 0:
        parser.error(f"--check-interval: expected > 0 s, got {args.check_interval}")
    if (args.sim_url is None) != (args.service_url is None):
        parser.error("--sim-url and --service-url: give both (attach) or neither (start)")
    kinds = tuple(kind.strip() for kind in args.kinds.split(",") if kind.strip())
    from selfheal_ml.live.soak import SoakOptions

    try:
        options = SoakOptions(
            faults=args.faults,
            interval_s=args.interval,
            timeout_s=args.timeout,
            approve_after_s=args.approve_after,
            seed=args.seed,
            **({"kinds": kinds} if kinds else {}),
        )
    except ValidationError as error:
        parser.error(f"--{error.field.replace('_', '-')}: {error.problem}")
    return args, options


def _timing(args: argparse.Namespace) -> dict[str, str]:
    """The stack's timing: ``--check-interval`` with the service's defaults, else the test's."""
    from selfheal_ml.live.stack import LIVE_TIMING

    if args.check_interval is None:
        return dict(LIVE_TIMING)
    names = ("SELFHEAL_HEALTH_CHECK_INTERVAL_S", "SELFHEAL_METRICS_INTERVAL_S")
    return dict.fromkeys(names, str(args.check_interval))


def _soak(args: argparse.Namespace, options: SoakOptions) -> dict[str, object]:
    from selfheal_ml.live.client import LiveClient
    from selfheal_ml.live.soak import run_soak
    from selfheal_ml.live.stack import LiveStack

    if args.sim_url:
        with LiveClient(args.sim_url, args.service_url, args.admin_token) as client:
            return run_soak(client, options, not args.quiet).as_dict(options)
    with (
        tempfile.TemporaryDirectory(prefix="live-soak-") as scratch,
        LiveStack(Path(scratch), seed=options.seed, timing=_timing(args)) as stack,
    ):
        assert stack.sim is not None and stack.service is not None
        with LiveClient(stack.sim.url, stack.service.url) as client:
            return run_soak(client, options, not args.quiet).as_dict(options)


def main(argv: list[str] | None = None) -> int:
    args, options = parse_args(argv)
    import httpx

    try:
        report = _soak(args, options)
    except (SelfHealError, httpx.HTTPError) as error:
        print(f"{Path(sys.argv[0]).name}: error: {error}", file=sys.stderr)
        return 1
    width = max(len(key) for key in HEADLINE)
    print("\n".join(f"{key:<{width}}  {report[key]}" for key in HEADLINE))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", "utf-8")
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
