"""The ``selfheal-ml`` command line.

    selfheal-ml serve [--host H] [--port P] [--config FILE] [--dev]
    selfheal-ml config show [--config FILE]
    selfheal-ml version

A bad setting stops start-up with exit code 2 and one line naming the setting.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from selfheal_ml import __version__
from selfheal_ml.config import Settings, load_settings
from selfheal_ml.errors import ConfigError

EXIT_CONFIG = 2


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from selfheal_ml.api import create_app

    app = create_app(settings, dev=args.dev)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def _config_show(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(settings.masked(), indent=2))
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

    config = commands.add_parser("config", help="inspect the configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    show = config_commands.add_parser("show", help="print the effective configuration")
    show.add_argument("--config", help="TOML file with settings and targets")
    show.set_defaults(handler=_config_show)

    version = commands.add_parser("version", help="print the version")
    version.set_defaults(handler=_version, needs_settings=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    if not getattr(args, "needs_settings", True):
        return _version(args, None)
    try:
        settings = load_settings(getattr(args, "config", None))
        return handler(args, settings)
    except ConfigError as exc:
        print(f"selfheal-ml: {exc}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
