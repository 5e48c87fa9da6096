"""The plug for an injection scorer: anything with ``score(texts)`` and a ``threshold``.

The request classifier (trained on the shared SQLi/XSS data) lives in its own module; the
detector only needs this protocol, so it can run without one and take one when it lands.
Scores are "higher = more likely an attack"; a text is flagged when its score reaches
``threshold``.

>>> class Always:
...     threshold = 0.5
...     def score(self, texts):
...         return [1.0 for _ in texts]
>>> isinstance(Always(), PayloadScorer)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from selfheal_ml.security.records import LogRecord


@runtime_checkable
class PayloadScorer(Protocol):
    """Scores request payloads for injection, in batches."""

    @property
    def threshold(self) -> float:
        """Scores at or above this flag a payload."""
        ...

    def score(self, texts: Sequence[str]) -> Sequence[float]:
        """One score per text, same order."""
        ...


def payload_text(record: LogRecord) -> str:
    """What is scored for a request: the path with its query string, then the body.

    >>> from datetime import datetime, UTC
    >>> from selfheal_ml.security.records import EventKind
    >>> payload_text(LogRecord(datetime(2026, 1, 1, tzinfo=UTC), EventKind.REQUEST,
    ...                        path="/q?id=1", body="a=b"))
    '/q?id=1\\na=b'
    """
    return f"{record.path}\n{record.body}" if record.body else record.path
