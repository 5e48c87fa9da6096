"""The command line as a user meets it: every --help fast and complete, quiet logging, where
servers listen, and settings errors without Python's ``None``."""

from __future__ import annotations

import argparse
import logging
import re
import subprocess
import sys

import pytest

from selfheal_ml import cli
from selfheal_ml.errors import ConfigError
from selfheal_ml.repair_training_options import MARGIN, TRACKING_URI


def leaf_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command that runs something (``serve``, ``sim serve``, ``train repair``, ...)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += leaf_parsers(child, (*path, name))
    return found or [(path, parser)]


LEAVES = leaf_parsers(cli.build_parser())


def test_every_command_is_listed() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"serve", "demo", "sim serve", "train repair", "security replay", "config show",
            "analyze postgres", "version", "agent run"} == names  # fmt: skip


@pytest.mark.parametrize("path", [path for path, _ in LEAVES], ids=" ".join)
def test_every_option_is_described(path: tuple[str, ...]) -> None:
    parser = dict(LEAVES)[path]
    for action in parser._actions:
        if action.option_strings or action.dest not in ("help",):
            assert action.help, f"{' '.join(path)} {action.option_strings or action.dest}"
    text = parser.format_help()
    assert "``" not in text and ":func:" not in text and ":class:" not in text  # no reST


def test_train_repair_lists_the_pipeline_options() -> None:
    text = dict(LEAVES)[("train", "repair")].format_help()
    for option in ("--incidents", "--write-card", "--card", "--margin", "--tracking-uri"):
        assert option in text


def test_training_defaults_match_the_package() -> None:
    from selfheal_ml.repair.promotion import DEFAULT_MARGIN
    from selfheal_ml.tracking import DEFAULT_TRACKING_URI

    assert (MARGIN, TRACKING_URI) == (DEFAULT_MARGIN, DEFAULT_TRACKING_URI)


def test_the_model_card_is_written_only_when_asked() -> None:
    from selfheal_ml.training.pipeline import parse_options

    assert parse_options([]).card_path is None
    written = parse_options(["--write-card"]).card_path
    assert written is not None and written.as_posix() == "models/repair-strategy.md"
    elsewhere = parse_options(["--card", "out/card.md"]).card_path
    assert elsewhere is not None and elsewhere.as_posix() == "out/card.md"


def test_help_loads_no_heavy_library() -> None:
    probe = (
        "import sys\n"
        "from selfheal_ml import cli\n"
        "try:\n    cli.main(['serve', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sklearn', 'mlflow', 'pandas', 'duckdb', 'fastapi',"
        " 'pydantic_settings') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(("level", "chatty"), [("INFO", logging.WARNING), ("DEBUG", logging.DEBUG)])
def test_per_request_lines_only_at_debug(level: str, chatty: int) -> None:
    cli.configure_logging(level)
    for name in cli.CHATTY_LOGGERS:
        assert logging.getLogger(name).level == chatty


def test_log_level_after_the_command_too() -> None:
    args = cli.build_parser().parse_args(["serve", "--log-level", "DEBUG"])
    assert args.log_level == "DEBUG"
    assert cli.build_parser().parse_args(["serve"]).log_level == "INFO"


def test_servers_say_where_they_listen(capsys: pytest.CaptureFixture[str]) -> None:
    cli.listening("selfheal-ml sim serve:", "127.0.0.1", 8700)
    assert "listening on http://127.0.0.1:8700" in capsys.readouterr().out


def test_an_unset_setting_is_named_without_python_none() -> None:
    message = str(ConfigError("SELFHEAL_ADMIN_TOKEN", "a bearer token (or --dev)", None))
    assert "None" not in message and re.search(r"got nothing", message)
