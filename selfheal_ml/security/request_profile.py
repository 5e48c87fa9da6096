"""A profile of one application's normal requests, and how far a request strays from it.

In the spirit of Kruegel & Vigna, "Anomaly detection of web-based attacks" (CCS 2003): the
application itself, not a list of attack signatures, says what is normal. An injection
classifier cannot see most anomalies of a real application (a price field holding
``100A``, a renamed parameter, a probe for ``carrito.jsp.BAK``, a login name of 600
characters); a model of the application's own requests can. Learnt from normal requests
only, one at a time (so the Security agent can keep learning live), it models:

- per application: the paths asked for. An unknown path is graded, because an application
  has pages that normal traffic rarely asks for: a new file of a known folder, with a known
  extension and a file-name shape and characters seen before (``vaciar.jsp`` beside
  ``carrito.jsp``) counts half the Good-Turing surprise of :mod:`.attribute_profile`; an
  unknown folder, extension (``.BAK``, ``.jsp~``), file-name structure
  (``carrito.jsp/logo``) or character counts fully;
- per path: the methods, the parameter names, the *set* of names sent together (presence and
  absence) and their *order*, each with the same novelty test;
- per (path, parameter): the value models of :class:`~.attribute_profile.AttributeProfile`
  (length, character classes, enumerated values, structure).

A request's score combines the models' anomalies ``a`` (each in [0, 1); the per-parameter
ones take the worst parameter) as independent evidence, the noisy-OR ``1 - prod(1 - a)``,
reported on a log scale so that near-certain anomalies do not round to a tie: the score is
``-log10(prod(1 - a))``, the number of nines (2.0 = as unlikely as a 1-in-100 event, 0 =
nothing unusual). :meth:`RequestProfile.anomalies` gives the anomalies one by one as evidence.
The paper sums the anomalies; chosen on five group folds of the training sides of
``pipelines/train_request_classifier.py``'s split (never its held-out side), TPR on CSIC 2010
at 0 % FPR averaged 73.9 % for the sum, 58.3 % for the highest anomaly and 89.6 % for this
score (``docs/benchmarks.md``): a long registration form collects small anomalies that add up
in a sum, and a single highest anomaly ties too often.

Numeric path segments are folded to ``{n}`` so ``/users/12`` and ``/users/13`` share a
profile. Memory is bounded by ``max_paths``, ``max_parameters`` per path
and ``max_distinct`` values per model.

>>> from selfheal_ml.security.request_parts import parse_request
>>> profile = RequestProfile(min_observations=5)
>>> for number in range(20):
...     profile.learn(parse_request("GET", f"/item.jsp?id={number % 4}&B1=Buy", None))
>>> profile.score(parse_request("GET", "/item.jsp?id=2&B1=Buy", None))
0.0
>>> profile.score(parse_request("GET", "/item.jsp?id=2'--&B1=Buy", None)) > 2.0
True
>>> round(profile.anomalies(parse_request("GET", "/item.BAK", None))["path"], 3)
0.952
>>> round(profile.anomalies(parse_request("GET", "/basket.jsp", None))["path"], 3)
0.476
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from selfheal_ml.security.attribute_profile import (
    ANOMALY_KINDS,
    AttributeProfile,
    NoveltyCounter,
)
from selfheal_ml.security.request_parts import RequestParts, parse_request_text

REQUEST_KINDS = ("path", "method", "parameter", "parameter_set", "order")
KINDS = REQUEST_KINDS + ANOMALY_KINDS
_MAX_ANOMALY = 1.0 - 1e-12  # every anomaly is below 1; a guard against log(0) all the same


def path_key(path: str) -> str:
    """The path with every all-digit segment folded to ``{n}``.

    >>> path_key("/users/12/orders"), path_key("/tienda1/imagenes/3.gif")
    ('/users/{n}/orders', '/tienda1/imagenes/3.gif')
    """
    return "/".join("{n}" if part.isdigit() else part for part in path.split("/"))


@dataclass
class _PathProfile:
    max_distinct: int
    observations: int = 0
    methods: NoveltyCounter = field(init=False)
    names: NoveltyCounter = field(init=False)
    name_sets: NoveltyCounter = field(init=False)
    orders: NoveltyCounter = field(init=False)
    attributes: dict[str, AttributeProfile] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.methods = NoveltyCounter(self.max_distinct)
        self.names = NoveltyCounter(self.max_distinct)
        self.name_sets = NoveltyCounter(self.max_distinct)
        self.orders = NoveltyCounter(self.max_distinct)

    _COUNTERS = ("methods", "names", "name_sets", "orders")

    def state(self) -> dict[str, Any]:
        return {
            "max_distinct": self.max_distinct,
            "observations": self.observations,
            **{name: getattr(self, name).state() for name in self._COUNTERS},
            "attributes": {key: value.state() for key, value in self.attributes.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> _PathProfile:
        profile = cls(int(state["max_distinct"]), int(state["observations"]))
        for name in cls._COUNTERS:
            setattr(profile, name, NoveltyCounter.from_state(state[name]))
        profile.attributes = {
            str(key): AttributeProfile.from_state(value)
            for key, value in state["attributes"].items()
        }
        return profile


class _PathNames:
    """Folders, extensions and file-name shapes of the known paths (for unknown paths)."""

    def __init__(self, max_distinct: int) -> None:
        self.paths = NoveltyCounter(max_distinct)
        self.folders = NoveltyCounter(max_distinct)
        self.extensions = NoveltyCounter(max_distinct)
        self.file_names = AttributeProfile(1, max_distinct)

    @staticmethod
    def _split(path: str) -> tuple[str, str, str]:
        folder, _, file_name = path.rpartition("/")
        extension = file_name.rpartition(".")[2] if "." in file_name else ""
        return folder, file_name, extension

    def state(self) -> dict[str, Any]:
        return {
            "paths": self.paths.state(),
            "folders": self.folders.state(),
            "extensions": self.extensions.state(),
            "file_names": self.file_names.state(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> _PathNames:
        names = cls(int(state["paths"]["max_distinct"]))
        names.paths = NoveltyCounter.from_state(state["paths"])
        names.folders = NoveltyCounter.from_state(state["folders"])
        names.extensions = NoveltyCounter.from_state(state["extensions"])
        names.file_names = AttributeProfile.from_state(state["file_names"])
        return names

    def learn(self, path: str) -> None:
        folder, file_name, extension = self._split(path)
        self.paths.learn(path)
        self.folders.learn(folder)
        self.extensions.learn(extension)
        self.file_names.learn(file_name)

    def anomaly(self, path: str) -> float:
        """0 for a known path; graded for an unknown one (module docstring)."""
        surprise = self.paths.surprise(path)
        if surprise == 0.0:
            return 0.0
        folder, file_name, extension = self._split(path)
        name = self.file_names.anomalies(file_name)
        return max(
            surprise / 2,
            self.folders.surprise(folder),
            self.extensions.surprise(extension),
            name["structure"],
            name["characters"],
        )


def _name_keys(parts: RequestParts) -> tuple[str, str]:
    names = [name for name, _ in parts.parameters]
    return "&".join(sorted(set(names))), "&".join(names)


class RequestProfile:
    """Normal requests of one application, learnt one by one (module docstring)."""

    def __init__(
        self,
        min_observations: int = 10,
        max_paths: int = 2000,
        max_parameters: int = 64,
        max_distinct: int = 2000,
    ) -> None:
        self.min_observations = min_observations
        self.max_paths = max_paths
        self.max_parameters = max_parameters
        self.max_distinct = max_distinct
        self.observations_ = 0
        self._paths = _PathNames(max_paths)
        self._profiles: dict[str, _PathProfile] = {}

    def learn(self, parts: RequestParts) -> None:
        """Add one normal request to every model it touches."""
        self.observations_ += 1
        key = path_key(parts.path)
        self._paths.learn(key)
        profile = self._profiles.get(key)
        if profile is None:
            if len(self._profiles) >= self.max_paths:
                return
            profile = self._profiles[key] = _PathProfile(self.max_distinct)
        profile.observations += 1
        profile.methods.learn(parts.method)
        name_set, order = _name_keys(parts)
        profile.name_sets.learn(name_set)
        profile.orders.learn(order)
        for name, value in parts.parameters:
            profile.names.learn(name)
            attribute = profile.attributes.get(name)
            if attribute is None and len(profile.attributes) < self.max_parameters:
                attribute = profile.attributes[name] = AttributeProfile(
                    self.min_observations, self.max_distinct
                )
            if attribute is not None:
                attribute.learn(value)

    def state(self) -> dict[str, Any]:
        """Everything learnt, as JSON-ready data: a profile travels with a registered model as
        a JSON file (loading it runs no code, unlike a pickle); :meth:`from_state` rebuilds it.

        >>> from selfheal_ml.security.request_parts import parse_request
        >>> profile = RequestProfile(min_observations=1)
        >>> profile.learn(parse_request("GET", "/a.jsp?id=1", None))
        >>> copy = RequestProfile.from_state(profile.state())
        >>> request = parse_request("GET", "/a.jsp?id=x", None)
        >>> copy.score(request) == profile.score(request) and copy.state() == profile.state()
        True
        """
        return {
            "min_observations": self.min_observations,
            "max_paths": self.max_paths,
            "max_parameters": self.max_parameters,
            "max_distinct": self.max_distinct,
            "observations": self.observations_,
            "path_names": self._paths.state(),
            "paths": {key: value.state() for key, value in self._profiles.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> RequestProfile:
        """The profile :meth:`state` described (``KeyError`` names a missing field)."""
        profile = cls(
            int(state["min_observations"]),
            int(state["max_paths"]),
            int(state["max_parameters"]),
            int(state["max_distinct"]),
        )
        profile.observations_ = int(state["observations"])
        profile._paths = _PathNames.from_state(state["path_names"])
        profile._profiles = {
            str(key): _PathProfile.from_state(value) for key, value in state["paths"].items()
        }
        return profile

    def known_path(self, parts: RequestParts) -> bool:
        """Whether the profile has learnt requests for this request's path."""
        return path_key(parts.path) in self._profiles

    def learn_many(self, requests: Iterable[RequestParts]) -> RequestProfile:
        """Learn every request; returns ``self`` (to chain like ``fit``)."""
        for parts in requests:
            self.learn(parts)
        return self

    def _path_anomalies(self, profile: _PathProfile, parts: RequestParts) -> dict[str, float]:
        name_set, order = _name_keys(parts)
        set_anomaly = profile.name_sets.surprise(name_set)
        unknown_names = [
            profile.names.surprise(name) for name, _ in parts.parameters if name not in
            profile.attributes
        ]  # fmt: skip
        return {
            "method": profile.methods.surprise(parts.method),
            "parameter": max(unknown_names, default=0.0),
            "parameter_set": set_anomaly,
            "order": profile.orders.surprise(order) if set_anomaly == 0.0 else 0.0,
        }

    def anomalies(self, parts: RequestParts) -> dict[str, float]:
        """Every model's anomaly in [0, 1] (:data:`KINDS`); all 0 during the warm-up."""
        found = dict.fromkeys(KINDS, 0.0)
        if self.observations_ < self.min_observations:
            return found
        key = path_key(parts.path)
        profile = self._profiles.get(key)
        if profile is None:
            found["path"] = self._paths.anomaly(key)
            return found
        if profile.observations < self.min_observations:
            return found
        found.update(self._path_anomalies(profile, parts))
        for name, value in parts.parameters:
            attribute = profile.attributes.get(name)
            if attribute is None:
                continue
            for kind, anomaly in attribute.anomalies(value).items():
                found[kind] = max(found[kind], anomaly)
        return found

    def score(self, parts: RequestParts) -> float:
        """The request's score: ``-log10(prod(1 - a))`` over :meth:`anomalies` (module
        docstring; 0 = nothing unusual)."""
        log_normal = sum(math.log1p(-min(a, _MAX_ANOMALY)) for a in self.anomalies(parts).values())
        return -log_normal / math.log(10.0) + 0.0

    def score_texts(self, texts: Iterable[str]) -> np.ndarray:
        """:meth:`score` of ``method uri body`` texts (:func:`.parse_request_text`)."""
        return np.array([self.score(parse_request_text(text)) for text in texts], dtype=float)
