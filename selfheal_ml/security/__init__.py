"""Security domain: request/auth log records, attack detection and ban decisions.

Pure logic only (no I/O): parsers turn log lines into records, detectors count them the
way fail2ban and CrowdSec do, the request classifier scores payloads for injection, and
the ban policy turns findings into decisions. Tailing files, storing decisions and
serving them live in the adapter layers above.
"""

from selfheal_ml.security.request_classifier import RequestScorer
from selfheal_ml.security.request_frame import texts_from_frame
from selfheal_ml.security.request_text import normalise_text, request_text
from selfheal_ml.security.signatures import SIGNATURES, SignatureBaseline

__all__ = [
    "SIGNATURES",
    "RequestScorer",
    "SignatureBaseline",
    "normalise_text",
    "request_text",
    "texts_from_frame",
]
