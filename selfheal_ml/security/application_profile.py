"""The application request profile a registered request classifier carries, with its threshold.

The injection classifier sees injections; most anomalous requests of a real application are
not injections (a price of ``100A``, a renamed parameter, a probe for ``carrito.jsp.BAK``).
The :class:`~selfheal_ml.security.request_profile.RequestProfile` of the application's own
normal requests sees those. ``pipelines/train_request_classifier.py`` learns the profile of
the application in the shared data (CSIC 2010's shop, its normal requests of the fit side),
sets its threshold on the validation side's normal requests, and logs both beside the model
as ``extra_files/application_profile.json``; ``pipelines/score_requests.py`` then scores
whole requests of that application with both (:meth:`RequestScorer.request_units
<selfheal_ml.security.request_classifier.RequestScorer.request_units>`).

A profile speaks only for the application it learnt: another application's requests all
look new to it. :meth:`ApplicationProfile.known_path_share` tells whether a batch of requests
is of the learnt application (most of its requests ask for paths the profile knows); the live
Security agent learns one profile per platform instead (:mod:`.profile_watch`).

>>> from selfheal_ml.security.request_parts import parse_request
>>> profile = RequestProfile(min_observations=5)
>>> for number in range(20):
...     profile.learn(parse_request("GET", f"/item.jsp?id={number % 4}", None))
>>> application = ApplicationProfile(profile, scale=2.0, target_fpr=0.001, application="demo")
>>> application.units(["GET /item.jsp?id=2", "GET /item.jsp?id=2'--"]).round(2).tolist()
[0.0, 3.12]
>>> application.known_path_share(["GET /item.jsp?id=9", "GET /other.jsp"])
0.5
>>> ApplicationProfile.from_json(application.to_json()).scale
2.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from selfheal_ml.security.request_parts import parse_request_text
from selfheal_ml.security.request_profile import RequestProfile

PROFILE_FILE = "application_profile.json"
"""The file's name among a registered model's ``extra_files``."""
FORMAT = "selfheal-ml/application-profile"
VERSION = 1
IN_SCOPE_SHARE = 0.5
"""A batch is of the learnt application when at least this share of its requests asks for
paths the profile learnt (CSIC's normal requests: all; another application's: about none)."""


class ApplicationProfileError(ValueError):
    """An ``application_profile.json`` this code cannot read (names what is wrong)."""


@dataclass(frozen=True)
class ApplicationProfile:
    """A request profile and the score at which it flags a request (``scale``)."""

    profile: RequestProfile
    scale: float
    target_fpr: float
    application: str

    def units(self, texts: Sequence[str]) -> np.ndarray:
        """Per ``method uri body`` text, the profile's score divided by its threshold: 1.0
        is as unusual as the rarest ``target_fpr`` of the validation side's normal requests."""
        return self.profile.score_texts(texts) / self.scale

    def known_path_share(self, texts: Sequence[str]) -> float:
        """The share of ``texts`` whose path the profile learnt (0 for no texts)."""
        if len(texts) == 0:
            return 0.0
        known = sum(self.profile.known_path(parse_request_text(text)) for text in texts)
        return known / len(texts)

    def applies_to(self, texts: Sequence[str]) -> bool:
        """Whether ``texts`` look like requests of the learnt application (module docstring)."""
        return self.known_path_share(texts) >= IN_SCOPE_SHARE

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (no pickle: loading a model's files must not run code)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "application": self.application,
            "scale": self.scale,
            "target_fpr": self.target_fpr,
            "profile": self.profile.state(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApplicationProfile:
        """The profile :meth:`to_json` wrote; :class:`ApplicationProfileError` otherwise."""
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            given = (data.get("format"), data.get("version"))
            expected = f"format {FORMAT!r} version {VERSION}"
            raise ApplicationProfileError(f"expected {expected}, got {given}")
        try:
            scale = float(data["scale"])
            if not scale > 0:
                raise ValueError(f"scale: expected a positive number, got {scale}")
            profile = RequestProfile.from_state(data["profile"])
            return cls(profile, scale, float(data["target_fpr"]), str(data["application"]))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ApplicationProfileError(f"application profile unreadable: {error!r}") from error
