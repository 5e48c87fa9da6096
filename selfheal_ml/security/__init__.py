"""Security domain: request/auth log records, attack detection and ban decisions.

Pure logic only (no I/O): parsers turn log lines into records, detectors count them the
way fail2ban and CrowdSec do, the request classifier scores payloads for injection, and
the ban policy turns findings into decisions. Tailing files, storing decisions and
serving them live in the adapter layers above.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

# imported now (standard library only): the function ``request_text`` shares its module's
# name, and a module imported later would otherwise shadow a lazily exported function
from selfheal_ml.security.request_text import normalise_text, request_text

if TYPE_CHECKING:
    from selfheal_ml.security.request_classifier import RequestScorer
    from selfheal_ml.security.request_frame import texts_from_frame
    from selfheal_ml.security.signatures import SIGNATURES, SignatureBaseline

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.security.request_classifier": ("RequestScorer",),
        "selfheal_ml.security.request_frame": ("texts_from_frame",),
        "selfheal_ml.security.signatures": (
            "SIGNATURES",
            "SignatureBaseline",
        ),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "SIGNATURES",
    "RequestScorer",
    "SignatureBaseline",
    "normalise_text",
    "request_text",
    "texts_from_frame",
]
