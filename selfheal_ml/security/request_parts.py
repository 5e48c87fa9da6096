"""One HTTP request split into what an application profile models: method, path, parameters.

The request profile (:mod:`.request_profile`) learns, per path and per parameter, what the
application's own normal requests look like, so it needs the request in parts rather than as
one text. :func:`parse_request` takes the method, the URI (path and query) and the body (form
encoded), the way CSIC 2010 rows and access-log lines give them; :func:`parse_request_text`
takes the ``method uri body`` text of :func:`~.request_text.request_text`.

Values are percent-decoded once (``+`` as space) with Latin-1, so every byte stays one
character and a doubly encoded value keeps its ``%``; names are decoded the same way. Query
parameters come before body parameters, each in the order sent.

>>> parts = parse_request("POST", "/shop/buy.jsp?id=2", "qty=1&note=a+b%21")
>>> parts.method, parts.path, parts.parameters
('POST', '/shop/buy.jsp', (('id', '2'), ('qty', '1'), ('note', 'a b!')))
>>> parse_request_text("get /a.jsp?x=%2527").parameters
(('x', '%27'),)
>>> parse_request_text("get").path
''
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class RequestParts:
    """A request as the profile sees it: upper-case method, path, (name, value) pairs."""

    method: str
    path: str
    parameters: tuple[tuple[str, str], ...]


def _decode(text: str) -> str:
    return unquote_plus(text, encoding="latin-1")


def _fields(encoded: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` as decoded pairs; a field without ``=`` is a name with an empty value."""
    pairs: list[tuple[str, str]] = []
    for field in encoded.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        pairs.append((_decode(name), _decode(value)))
    return pairs


def parse_request(method: str, uri: str, body: str | None) -> RequestParts:
    """The parts of one request (module docstring); a full URL keeps only its path."""
    if "://" in uri:
        uri = "/" + uri.split("://", 1)[1].partition("/")[2]
    path, _, query = uri.partition("?")
    parameters = _fields(query) + _fields(body or "")
    return RequestParts(method.upper(), _decode(path), tuple(parameters))


def parse_request_text(text: str) -> RequestParts:
    """The parts of a ``method uri body`` text (spaces inside the URI or body are encoded)."""
    method, _, rest = text.partition(" ")
    uri, _, body = rest.partition(" ")
    return parse_request(method, uri, body or None)
