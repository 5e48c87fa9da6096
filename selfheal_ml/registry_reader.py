"""Reading a served model from MLflow's SQLite registry without importing MLflow.

The service serves the ``@champion`` of a model registered in a local SQLite tracking store
(``sqlite:///mlruns/mlflow.db``). Asking MLflow for it imports MLflow, SQLAlchemy and Alembic
(about 90 MB of RSS, for good: Python does not unload modules) just to read two rows and one
file. This module reads the same two tables with :mod:`sqlite3` and the same artifact file
MLflow would load:

1. ``registered_model_aliases`` (name, alias -> version) joined to ``model_versions`` (name,
   version -> ``storage_location``, a ``file://`` URI of the model directory);
2. the directory's ``MLmodel`` file (YAML): the ``sklearn`` flavour's ``pickled_model``,
   ``serialization_format`` and ``skops_trusted_types``;
3. a ``skops`` file is loaded with ``skops.io.load(path, trusted=...)``, which is what
   ``mlflow.sklearn.load_model`` calls for that format.

A version trained since the serving forms exist also has, in the directory's
``extra_files/``, its serving form (``serving_form.json`` and ``serving_form.npz``, see
:mod:`selfheal_ml.serving`): :func:`read_served_model` builds the model from it with numpy
alone, so serving it does not import scikit-learn, SciPy or skops either.

Anything else (a store that is not SQLite, tables or columns this code does not know, a model
that is not a local skops file, more than one workspace's row) raises
:class:`RegistryLayoutUnknownError`, and :class:`~selfheal_ml.tracking.Tracker` asks MLflow instead.
MLflow stays the tool that trains, registers and promotes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from selfheal_ml.serving.form import ARRAYS_FILE, HEADER_FILE, ServingForm
from selfheal_ml.serving.loading import served_model
from selfheal_ml.serving.model import ServedModel

SQLITE_PREFIX = "sqlite:///"


class RegistryLayoutUnknownError(Exception):
    """The store or the model is not laid out the way this reader understands."""


@dataclass(frozen=True)
class RegisteredVersion:
    """One model version as the registry records it: its number and its model directory."""

    version: str
    directory: Path


def sqlite_store_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI, else ``None``.

    >>> sqlite_store_path("sqlite:///mlruns/mlflow.db")
    PosixPath('mlruns/mlflow.db')
    >>> sqlite_store_path("http://mlflow:5000") is None
    True
    """
    if not tracking_uri.startswith(SQLITE_PREFIX):
        return None
    return Path(tracking_uri.removeprefix(SQLITE_PREFIX))


def _query(database: Path, statement: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Rows of one read-only query; an unknown table or column is an unknown layout."""
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute(statement, parameters).fetchall()
    except sqlite3.OperationalError as error:  # no such table / column
        raise RegistryLayoutUnknownError(f"{database}: {error}") from error
    finally:
        connection.close()


def _one_row(rows: list[tuple[Any, ...]], what: str) -> tuple[Any, ...] | None:
    """The single row of a lookup, ``None`` for none; several (workspaces) are not understood."""
    if len(rows) > 1:
        raise RegistryLayoutUnknownError(f"{len(rows)} rows for {what}")
    return rows[0] if rows else None


def _directory(storage_location: str | None, source: str | None) -> Path:
    """The local model directory of a version (``storage_location``, else a ``file:`` source)."""
    for location in (storage_location, source):
        if location and location.startswith("file://"):
            return Path(unquote(urlparse(location).path))
    raise RegistryLayoutUnknownError(
        f"model not in a local directory: {storage_location or source}"
    )


def aliased_version(database: Path, name: str, alias: str) -> RegisteredVersion | None:
    """The version ``name@alias`` points at and its directory, or ``None`` (no such alias)."""
    return _version(
        database,
        "SELECT v.version, v.storage_location, v.source FROM registered_model_aliases AS a "
        "JOIN model_versions AS v ON v.name = a.name AND v.version = a.version "
        "WHERE a.name = ? AND a.alias = ?",
        (name, alias),
        f"{name}@{alias}",
    )


def numbered_version(database: Path, name: str, version: str) -> RegisteredVersion | None:
    """Version ``version`` of ``name`` and its directory, or ``None`` (no such version)."""
    return _version(
        database,
        "SELECT version, storage_location, source FROM model_versions "
        "WHERE name = ? AND version = ?",
        (name, version),
        f"{name}/{version}",
    )


def _version(
    database: Path, query: str, parameters: tuple[str, str], label: str
) -> RegisteredVersion | None:
    """The one (version, storage location, source) row ``query`` finds, as a version."""
    row = _one_row(_query(database, query, parameters), label)
    if row is None:
        return None
    return RegisteredVersion(str(row[0]), _directory(row[1], row[2]))


def resolve_models_uri(database: Path, model_uri: str) -> RegisteredVersion | None:
    """The version a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI names."""
    if not model_uri.startswith("models:/"):
        raise RegistryLayoutUnknownError(f"not a registry URI: {model_uri}")
    reference = model_uri.removeprefix("models:/")
    if "@" in reference:
        name, alias = reference.split("@", 1)
        return aliased_version(database, name, alias)
    if reference.count("/") == 1:
        name, version = reference.split("/")
        return numbered_version(database, name, version)
    raise RegistryLayoutUnknownError(f"registry URI not understood: {model_uri}")


def load_skops_model(directory: Path) -> Any:
    """The scikit-learn model in an MLflow model directory saved in the skops format."""
    import yaml  # type: ignore[import-untyped]  # PyYAML: an MLflow dependency

    try:
        flavour = yaml.safe_load((directory / "MLmodel").read_text())["flavors"]["sklearn"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
        raise RegistryLayoutUnknownError(f"{directory}: no sklearn flavour ({error})") from error
    if flavour.get("serialization_format") != "skops" or flavour.get("code"):
        raise RegistryLayoutUnknownError(f"{directory}: not a plain skops model")
    import skops.io  # type: ignore[import-untyped]

    trusted = flavour.get("skops_trusted_types") or None
    return skops.io.load(directory / str(flavour["pickled_model"]), trusted=trusted)


def read_served_model(directory: Path) -> ServedModel | None:
    """The model served from the directory's serving form, ``None`` if it has none (a version
    logged before serving forms existed); a form this code cannot read raises
    :class:`~selfheal_ml.serving.form.ServingFormError`."""
    extra = directory / "extra_files"
    if not (extra / HEADER_FILE).exists():
        return None
    header = json.loads((extra / HEADER_FILE).read_text())
    with np.load(extra / ARRAYS_FILE, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return served_model(ServingForm(header, arrays))
