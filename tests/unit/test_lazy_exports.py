"""Lazy package exports: every name a package lists resolves to the object its module
defines, and an unknown name is an AttributeError as for any module."""

from __future__ import annotations

import importlib

import pytest

from selfheal_ml.agents import AGENT_LOADERS, agent_class
from selfheal_ml.config import AGENT_NAMES

LAZY_PACKAGES = (
    "selfheal_ml.actions",
    "selfheal_ml.anomaly",
    "selfheal_ml.bus",
    "selfheal_ml.collectors",
    "selfheal_ml.diagnosis",
    "selfheal_ml.forecast",
    "selfheal_ml.repair",
    "selfheal_ml.scoring",
    "selfheal_ml.security",
    "selfheal_ml.training",
)


@pytest.mark.parametrize("package_name", LAZY_PACKAGES)
def test_every_listed_export_resolves_to_its_modules_object(package_name: str) -> None:
    package = importlib.import_module(package_name)
    exports = package._EXPORTS
    assert set(exports.names()) <= set(package.__all__)
    for name in exports.names():
        module = importlib.import_module(exports.module_of[name])
        assert getattr(package, name) is getattr(module, name)
    for name in package.__all__:  # the eager ones too, after every module was imported
        assert not isinstance(getattr(package, name), type(importlib)), name


@pytest.mark.parametrize("package_name", LAZY_PACKAGES)
def test_an_unknown_name_is_an_attribute_error(package_name: str) -> None:
    package = importlib.import_module(package_name)
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        package.Missing  # noqa: B018


def test_each_agent_loads_by_its_name_in_start_up_order() -> None:
    assert tuple(AGENT_LOADERS) == AGENT_NAMES
    for name in AGENT_NAMES:
        assert agent_class(name).name == name
