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
    "psycopg",
    "pglast",
)


#: What the agents still load when built in the API process (the Monitor appends Arrow batches;
#: the Predictive agent's capacity checks read pandas frames). The PostgreSQL and Redis clients
#: load only with a target of their kind (checked below).
AGENT_LIBRARIES = ("pandas", "pyarrow")


def _heavy_modules_after(statement: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    probe = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout
    )
    return sorted({name.split(".")[0] for name in loaded} & set(heavy))


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


def test_the_agents_in_process_load_no_model_library_until_they_train_or_forecast() -> None:
    """Every agent built in one process: statsmodels, scikit-learn, SciPy, river, MLflow and
    matplotlib load only with a forecast fit, a training or a registered model (issue 17)."""
    statement = (
        "import tempfile; folder = tempfile.mkdtemp(); "
        "from selfheal_ml.config import AGENT_NAMES, Settings; "
        "from selfheal_ml.runtime import build_runtime; "
        "from selfheal_ml.agent_process import with_agents; "
        "settings = Settings(db_path=folder + '/t.duckdb', "
        "mlflow_tracking_uri='sqlite:///' + folder + '/mlflow.db'); "
        "build_runtime(with_agents(settings, AGENT_NAMES)).database.close()"
    )
    model_libraries = tuple(name for name in HEAVY if name not in AGENT_LIBRARIES)
    assert _heavy_modules_after(statement, model_libraries) == []


def test_the_database_clients_load_only_with_a_database_target() -> None:
    """With only the simulator's HTTP targets, every agent built in one process loads neither
    psycopg, redis nor the SQL parser (about 17 MB of RSS, issue 17); a PostgreSQL target
    brings psycopg."""
    build = (
        "import tempfile; folder = tempfile.mkdtemp(); "
        "from selfheal_ml.config import AGENT_NAMES, Settings, Target; "
        "from selfheal_ml.runtime import build_runtime; "
        "from selfheal_ml.agent_process import with_agents; "
        "settings = Settings(db_path=folder + '/t.duckdb', "
        "mlflow_tracking_uri='sqlite:///' + folder + '/mlflow.db'{targets}); "
        "runtime = build_runtime(with_agents(settings, AGENT_NAMES)); "
        "runtime.database.close()"
    )
    clients = ("psycopg", "redis", "pglast")
    assert _heavy_modules_after(build.format(targets=""), clients) == []
    postgres = (
        ", targets=(Target(kind='postgres', name='db', url='postgresql://127.0.0.1:5432/test'),)"
    )
    assert "psycopg" in _heavy_modules_after(build.format(targets=postgres), clients)
