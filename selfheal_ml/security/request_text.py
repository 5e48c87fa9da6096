"""The text a request classifier reads: one request or one payload, decoded and normalised.

Attackers hide the same payload behind encodings (``%27``, ``%2527``, ``+`` for space,
``&#39;``, ``&lt;``), upper/lower case and runs of whitespace. :func:`normalise_text` undoes
those so that ``' OR 1=1--`` looks the same however it was sent: percent-decoding (twice, for
double encoding; ``+`` as space), HTML entities, lower case, whitespace runs collapsed to one
space. :func:`request_text` builds the text of a whole request from its method, URI (path and
query) and body, the way CSIC 2010 rows and access-log lines give them.

>>> normalise_text("1%2527+OR+1%3D1--")
"1' or 1=1--"
>>> normalise_text("&lt;SCRIPT&gt;alert(1)&lt;/script&gt;")
'<script>alert(1)</script>'
>>> normalise_text("&#60&#115cript>")
'<script>'
>>> parameter_values("post /login?next=%2Fhome user=ana&pwd=x'+or+1=1--")
['/login', '%2Fhome', 'ana', "x'+or+1=1--"]
>>> request_text("GET", "/shop/item.jsp?id=2", None)
'get /shop/item.jsp?id=2'
>>> request_text("post", "/login", "user=ana&pwd=x")
'post /login user=ana&pwd=x'
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

from selfheal_ml.errors import ValidationError

_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# numeric references need no ';' (browsers decode "&#60&#115"), named ones do here
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31};)")
MAX_DECODE_ROUNDS = 2
_METHODS = frozenset({"get", "post", "put", "delete", "patch", "head", "options"})


def _percent_decode(text: str) -> str:
    """Percent-decode up to :data:`MAX_DECODE_ROUNDS` times (double encoding), ``+`` as space."""
    decoded = unquote_plus(text, errors="replace")
    for _ in range(MAX_DECODE_ROUNDS - 1):
        if not _PERCENT_ESCAPE.search(decoded):
            break
        decoded = unquote_plus(decoded, errors="replace")
    return decoded


def normalise_text(text: str) -> str:
    """Decoded, lower-case, single-spaced text (see the module docstring)."""
    decoded = _percent_decode(text) if ("%" in text or "+" in text) else text
    if "&" in decoded and _ENTITY.search(decoded):
        decoded = html.unescape(decoded)
    return " ".join(decoded.lower().split())


def _part(value: object) -> str:
    """A request field as text: missing values (None, NaN) are empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def request_text(method: object, uri: object, body: object) -> str:
    """The raw text of one request: ``method uri body``, empty parts left out, method lower."""
    parts = (_part(method).lower(), _part(uri), _part(body))
    return " ".join(part for part in parts if part)


def parameter_values(text: str) -> list[str]:
    """The path and every parameter value of a request text (raw, not decoded).

    A whole request dilutes one injected value among normal ones; scoring each value on its
    own (the classifier learnt single values) finds it. Parts are split on spaces; the first
    part that starts with ``/`` is the path (its query after ``?``); parameters are split on
    ``&`` and a value is what follows the first ``=``.
    """
    values: list[str] = []
    for part in text.split(" "):
        if not part or part.lower() in _METHODS:
            continue
        if part.startswith("/") and not values:
            path, _, part = part.partition("?")
            values.append(path)
            if not part:
                continue
        for field in part.split("&"):
            if "=" in field:
                values.append(field.split("=", 1)[1])
            elif field:
                values.append(field)
    return values


def as_texts(raw: Any) -> list[str]:
    """Texts from a sequence, a pandas Series or a one-column DataFrame (MLflow's input)."""
    if hasattr(raw, "columns"):
        if len(raw.columns) != 1:
            raise ValidationError("texts", f"expected one text column, got {list(raw.columns)}")
        raw = raw.iloc[:, 0]
    values: Iterable[Any] = raw.tolist() if hasattr(raw, "tolist") else raw
    return ["" if value is None else str(value) for value in values]
