"""The API process stays lean: importing the API, or the agent-process module that ``serve``
uses, pulls in none of the heavy libraries (they load with the agents or routes that use them;
issue 17 and 20, docs/benchmarks.md). Checked in a fresh interpreter's ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "statsmodels",
    "sklearn",
    "mlflow",
    "river",
    "scipy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "redis",
)


def _heavy_modules_after(statement: str) -> list[str]:
    probe = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout
    )
    return sorted({name.split(".")[0] for name in loaded} & set(HEAVY))


@pytest.mark.parametrize(
    "statement",
    [
        "import selfheal_ml.api.app",
        "import selfheal_ml.cli, selfheal_ml.agent_process, selfheal_ml.heap",
        "from selfheal_ml.api import create_app; from selfheal_ml.config import Settings; "
        "create_app(Settings(), dev=True)",
        # what serve --agents none builds when the app starts: the runtime without agents
        "import tempfile; folder = tempfile.mkdtemp(); "
        "from selfheal_ml.config import Settings; from selfheal_ml.runtime import build_runtime; "
        "from selfheal_ml.agent_process import with_agents; "
        "settings = Settings(db_path=folder + '/t.duckdb', "
        "mlflow_tracking_uri='sqlite:///' + folder + '/mlflow.db'); "
        "build_runtime(with_agents(settings, ())).database.close()",
    ],
)
def test_the_api_imports_no_heavy_library(statement: str) -> None:
    assert _heavy_modules_after(statement) == []


def test_the_probe_sees_a_heavy_library_when_one_is_imported() -> None:
    assert _heavy_modules_after("import selfheal_ml.anomaly.river_detectors") != []
