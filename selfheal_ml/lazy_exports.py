"""A package's re-exported names, imported from their modules on first use (PEP 562).

``selfheal_ml.anomaly`` re-exports river detectors, ``selfheal_ml.forecast`` statsmodels
forecasters, ``selfheal_ml.security`` scikit-learn classifiers. Imported eagerly by their
package ``__init__``, every ``from selfheal_ml.anomaly.base import ...`` anywhere (the API
process included) paid for all of them: about 300 MB of RSS and 4 CPU s before the first
request. A package lists its exports here instead; each is imported from its module when it
is first read, and mypy sees the same names through the package's ``TYPE_CHECKING`` imports.

>>> exports = LazyExports("selfheal_ml", {"selfheal_ml.clock": ("RealClock",)})
>>> exports.attribute("RealClock").__name__
'RealClock'
>>> exports.attribute("Nothing")
Traceback (most recent call last):
...
AttributeError: module 'selfheal_ml' has no attribute 'Nothing'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping


class LazyExports:
    """``name -> module`` for one package; :meth:`attribute` is its ``__getattr__``."""

    def __init__(self, package: str, modules: Mapping[str, tuple[str, ...]]) -> None:
        self.package = package
        self.module_of = {name: module for module, names in modules.items() for name in names}

    def attribute(self, name: str) -> object:
        """The export ``name``, imported from its module (Python caches the module)."""
        module = self.module_of.get(name)
        if module is None:
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def names(self) -> list[str]:
        """Every export, for the package's ``__dir__`` and its ``__all__`` check."""
        return sorted(self.module_of)
