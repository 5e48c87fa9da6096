"""Import a script of ``pipelines/`` as a module, so its tests can call its functions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def load_pipeline(name: str) -> ModuleType:
    """``pipelines/<name>.py`` as the module ``name`` (registered in ``sys.modules``: worker
    processes unpickle its functions by module name)."""
    spec = importlib.util.spec_from_file_location(name, PIPELINES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
