"""Plant a seed's performance problems in a fresh database, run its traffic, run a command.

Creates ``perf_plant_<random>`` (``--extensions`` created in it), plants the problems of
``--seed`` (all kinds, or ``--clean`` for none), starts the traffic, waits ``--warm-up`` s, runs
``--command`` with ``{dsn}`` replaced by the database's DSN, then stops the traffic and drops
the database. Exit code: the command's; 2 for bad arguments.

    python pipelines/plant_postgres_problems.py --dsn postgresql://postgres@127.0.0.1/postgres \\
        --seed 7 --extensions hypopg \\
        --command "selfheal-ml analyze postgres --dsn {dsn} --seconds 10"
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from typing import NoReturn

# psycopg and the planted problems load after argparse: --help is instant

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """Errors are one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dsn", required=True, help="a DSN allowed to CREATE DATABASE")
    parser.add_argument("--seed", type=int, default=7, help="which problems to plant")
    parser.add_argument("--clean", action="store_true", help="plant no problem")
    parser.add_argument("--extensions", default="", help="comma-separated, e.g. hypopg")
    parser.add_argument(
        "--warm-up", type=float, default=1.5, help="s of workload before the command runs"
    )
    parser.add_argument("--command", required=True, help="run with {dsn} replaced")
    args = parser.parse_args(argv)
    if "{dsn}" not in args.command:
        parser.error("--command: expected a {dsn} placeholder")
    from selfheal_ml.live.postgres_problems import (
        PlantPlan,
        create_database,
        plant,
        run_workload,
    )

    plan = PlantPlan.from_seed(args.seed, kinds=frozenset() if args.clean else None)
    extensions = tuple(name for name in args.extensions.split(",") if name)
    with create_database(args.dsn, "plant") as dsn:
        plant(dsn, plan, extensions)
        with run_workload(dsn, plan):
            time.sleep(args.warm_up)
            command = [part.replace("{dsn}", dsn) for part in shlex.split(args.command)]
            return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
