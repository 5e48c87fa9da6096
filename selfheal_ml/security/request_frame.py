"""Texts to score from a table: a ``payload`` column, or ``method``, ``uri``, ``body``.

Used by ``pipelines/score_requests.py`` (and anything else that scores a batch of logged
requests): the table keeps its other columns and its row order; the text of each row is the
payload itself, or the request built by
:func:`~selfheal_ml.security.request_text.request_text`. A missing column is a
:class:`~selfheal_ml.errors.ValidationError` that names what is missing.

>>> import pandas as pd
>>> texts_from_frame(pd.DataFrame({"payload": ["a", None]}))
['a', '']
>>> texts_from_frame(pd.DataFrame({"method": ["GET"], "uri": ["/x?id=1"], "body": [None]}))
['get /x?id=1']
"""

from __future__ import annotations

import pandas as pd

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.request_text import request_text

REQUEST_COLUMNS = ("method", "uri", "body")


def texts_from_frame(frame: pd.DataFrame) -> list[str]:
    """One text per row (see the module docstring)."""
    if "payload" in frame.columns:
        return ["" if pd.isna(value) else str(value) for value in frame["payload"]]
    missing = [column for column in REQUEST_COLUMNS if column not in frame.columns]
    if missing:
        raise ValidationError(
            "columns",
            "expected a 'payload' column or 'method', 'uri', 'body' columns;"
            f" missing {', '.join(repr(name) for name in missing)}",
        )
    return [
        request_text(method, uri, body)
        for method, uri, body in zip(frame["method"], frame["uri"], frame["body"], strict=True)
    ]
