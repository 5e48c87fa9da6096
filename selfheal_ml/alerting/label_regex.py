"""Label regexes with RE2 semantics, as Alertmanager's (Go's ``regexp``) are.

Python's ``re`` backtracks: ``(a|a)*c`` against 25 ``a`` takes seconds, doubling per extra
character, and a silence is matched against every alert on every listing. RE2 (the
``google-re2`` binding) runs in time linear in the text, whatever the pattern, and refuses
what it cannot run that way (back-references, look-around) at compile time, so a bad pattern
fails when the silence is created, never when alerts are matched.

Patterns are anchored at both ends, like Alertmanager's, and at most ``max_length``
characters long.

>>> compiled("api|web").fullmatch("api") is not None
True
>>> compiled("(a|a)*c").fullmatch("a" * 40) is None
True
>>> check_pattern("(?=a)", max_length=100)
Traceback (most recent call last):
...
ValueError: invalid regex '(?=a)': invalid perl operator: (?=
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

DEFAULT_MAX_PATTERN_LENGTH = 1024
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error is raised to the caller, not printed on stderr


def anchored(value: str) -> str:
    """The anchored form of a matcher regex.

    >>> anchored("a|b")
    '^(?:a|b)$'
    """
    return f"^(?:{value})$"


@lru_cache(maxsize=1024)
def compiled(value: str) -> Any:
    """The compiled, anchored RE2 form of ``value`` (cached); raises ``ValueError``."""
    try:
        return re2.compile(anchored(value), _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(f"invalid regex {value!r}: {text}") from exc


def check_pattern(value: str, max_length: int = DEFAULT_MAX_PATTERN_LENGTH) -> None:
    """Refuse a pattern longer than ``max_length`` or one RE2 cannot compile."""
    if len(value) > max_length:
        raise ValueError(f"regex of {len(value)} characters, at most {max_length}")
    compiled(value)


def full_match(value: str, text: str) -> bool:
    """Does the whole of ``text`` match the pattern ``value``?"""
    return compiled(value).fullmatch(text) is not None
