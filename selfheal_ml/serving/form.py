"""The serving form of a model: a JSON-able header and named numpy arrays.

The header says what the model is (``steps``, ``estimator``, ``classes``, ``threshold``,
``feature_names``) and names its arrays; the arrays hold the numbers. Both are written as files
beside the skops model (JSON and ``.npz``, read back with ``allow_pickle=False``: nothing in a
serving form runs code when loaded).

>>> form = ServingForm({"format": FORMAT, "version": VERSION}, {"coef": np.zeros((1, 2))})
>>> form.array("coef").shape
(1, 2)
>>> form.array("missing")
Traceback (most recent call last):
...
selfheal_ml.serving.form.ServingFormError: serving form has no array 'missing'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Written in every header; a loader refuses another format or a newer version.
FORMAT = "selfheal-ml serving form"
VERSION = 1
#: File names inside the MLflow model directory's ``extra_files/``.
HEADER_FILE = "serving_form.json"
ARRAYS_FILE = "serving_form.npz"


class NotExportableError(ValueError):
    """A fitted model has a step or estimator the serving form does not know (training time)."""


class ServingFormError(ValueError):
    """A serving form this code cannot read (format, version, kind or a missing array)."""


@dataclass(frozen=True)
class ServingForm:
    """A model's header (JSON-able) and its named arrays."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def array(self, name: str) -> np.ndarray:
        """The array called ``name``; a missing one is a form this code cannot read."""
        if name not in self.arrays:
            raise ServingFormError(f"serving form has no array {name!r}")
        return self.arrays[name]

    def check_format(self) -> None:
        """Refuse a header of another format or a version newer than this code."""
        if self.header.get("format") != FORMAT:
            raise ServingFormError(f"not a serving form: format {self.header.get('format')!r}")
        version = self.header.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise ServingFormError(f"serving form version {version!r}, this code reads {VERSION}")
