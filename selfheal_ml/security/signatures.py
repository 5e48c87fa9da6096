"""The signature baseline: documented SQLi, XSS, path-traversal and command-injection rules.

Used when no trained request classifier is registered, and as the named baseline every
classifier is measured against. It follows OWASP CRS's anomaly scoring: each matching
signature adds its severity (critical 5, error 4, warning 3, notice 2) and a request whose
total reaches the inbound threshold (5, so one critical hit) is an attack. The score is
``points / (points + threshold)``, in ``[0, 1)``, 0.5 exactly at the threshold, so it can be
compared with a classifier's probabilities and swept for ROC figures.

Signatures read the normalised text (:func:`~selfheal_ml.security.request_text.normalise_text`:
decoded, lower case, single spaces). They are written in the spirit of libinjection's
fingerprints and the CRS PL1 rules (941xxx XSS, 942xxx SQLi, 930xxx traversal, 932xxx RCE):
a quote or bracket that breaks out of a value followed by SQL syntax, tautologies, UNION
SELECT, stacked queries, time delays and system catalogues; script tags, event handlers,
``javascript:`` URLs and DOM sinks; ``../`` runs and well-known system files; shell
metacharacters followed by a command. Benign text that merely contains SQL or HTML words
("select from the menu", "rock and roll", "1 by 1 inch") scores below the threshold.

>>> baseline = SignatureBaseline()
>>> baseline.is_attack(["1' or '1'='1", "<script>alert(1)</script>", "where is george"])
[True, True, False]
>>> [match.name for match in baseline.matches("../../../etc/passwd")]
['traversal-dotdot-run', 'traversal-system-file', 'traversal-dotdot']
"""

# ruff: noqa: E501  (the signature table keeps one rule per line; regexes do not wrap well)
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from selfheal_ml.security.request_text import as_texts, normalise_text

CRITICAL, ERROR, WARNING, NOTICE = 5, 4, 3, 2
INBOUND_THRESHOLD = 5


@dataclass(frozen=True)
class Signature:
    """One rule: a name, the attack category, its severity points and its pattern."""

    name: str
    category: str
    points: int
    pattern: re.Pattern[str]


def _rule(name: str, category: str, points: int, pattern: str) -> Signature:
    return Signature(name, category, points, re.compile(pattern))


_SQL_VERB = r"(?:select|insert|update|delete|drop|create|alter|exec|execute|declare|shutdown|truncate|waitfor)"
_SQL_AFTER_BREAKOUT = (
    r"(?:or|and|xor|union|select|having|order by|group by|where|like|rlike|regexp|is|"
    r"procedure|into|--|#|/\*|;|\|\||&&)"
)
_XSS_TAGS = (
    r"(?:iframe|object|embed|svg|img|image|body|frame|frameset|applet|meta|link|style|base|"
    r"form|input|video|audio|source|marquee|isindex|math|details|xss|a|div|table|td|bgsound|"
    r"layer|ilayer|xml|button|select|textarea|keygen|html)"
)

SIGNATURES: tuple[Signature, ...] = (
    # --- SQL injection (CRS 942xxx, libinjection fingerprints) -----------------------------
    _rule("sqli-union-select", "sqli", CRITICAL, r"\bunion\b(?:\s|/\*.*?\*/|\(|all|distinct)*select\b"),
    _rule("sqli-tautology", "sqli", CRITICAL, r"\b(?:or|and|xor|&&|\|\|)\s*\(?\s*(['\"]?)(\w+)\1\s*(?:=|<=>|like)\s*\(?\s*\1\2\1(?!\w)"),
    _rule("sqli-numeric-comparison", "sqli", ERROR, r"\b(?:or|and)\s+-?\d+\s*(?:=|<|>|!=|<>)\s*-?\d+"),
    _rule("sqli-quote-breakout", "sqli", CRITICAL, rf"['\"`]\s*\)*\s*{_SQL_AFTER_BREAKOUT}(?:\s|\(|$|\d|['\"&;-])"),
    _rule("sqli-number-breakout", "sqli", CRITICAL, r"^-?\d+\s*\)*\s*(?:or|and|union|having|order by|procedure)\s+[\w('\"@-]"),
    _rule("sqli-stacked-query", "sqli", CRITICAL, rf";\s*{_SQL_VERB}\b"),
    _rule("sqli-time-delay", "sqli", CRITICAL, r"\b(?:sleep|benchmark|pg_sleep|randomblob|dbms_pipe\.receive_message)\s*\(|\bwaitfor\s+(?:delay|time)\b"),
    _rule("sqli-system-catalogue", "sqli", CRITICAL, r"information_schema|\bsysobjects\b|\bsyscolumns\b|\bmysql\.user\b|\bpg_catalog\b|\bsqlite_master\b|\bxp_cmdshell\b|\bload_file\s*\(|\binto\s+(?:out|dump)file\b|@@version|\bsys\.\w+\$"),
    _rule("sqli-comment-terminated", "sqli", ERROR, r"['\"\)]\s*(?:--|#|/\*)"),
    _rule("sqli-inline-comment", "sqli", WARNING, r"/\*!?\d*.*?\*/"),
    _rule("sqli-select-from", "sqli", WARNING, r"\bselect\b[\s(].{0,80}?\bfrom\b"),
    _rule("sqli-order-by-number", "sqli", ERROR, r"\border by \d+\s*(?:--|#|$|,)"),
    _rule("sqli-function-call", "sqli", NOTICE, r"\b(?:char|chr|concat|concat_ws|group_concat|ascii|substring|substr|mid|cast|convert|hex|unhex|version|database|user|extractvalue|updatexml)\s*\("),
    _rule("sqli-hex-literal", "sqli", NOTICE, r"\b0x[0-9a-f]{6,}\b"),
    # --- cross-site scripting (CRS 941xxx) ---------------------------------------------------
    _rule("xss-script-tag", "xss", CRITICAL, r"<\s*/?\s*script\b"),
    _rule("xss-event-handler", "xss", CRITICAL, r"(?:<[^>]*|['\"/])\s*on[a-z]{3,}\s*="),
    _rule("xss-event-handler-word", "xss", ERROR, r"\bon(?:error|load|click|mouse\w+|focus\w*|blur|change|submit|key\w+|toggle|begin|start|end|animation\w+|pageshow|hashchange|message|resize|scroll|wheel|input|drag\w*|drop|copy|paste|beforeunload|unload)\s*="),
    _rule("xss-script-url", "xss", CRITICAL, r"(?:java|vb|live)script\s*:|data\s*:\s*text/html|data:image/svg"),
    _rule("xss-dangerous-tag", "xss", ERROR, rf"<\s*/?\s*{_XSS_TAGS}\b[^>]*(?:src|href|data|action|style|formaction|background|dynsrc|lowsrc|xmlns)\s*="),
    _rule("xss-tag-open", "xss", NOTICE, rf"<\s*{_XSS_TAGS}[\s/>]"),
    _rule("xss-dialog-call", "xss", ERROR, r"\b(?:alert|prompt|confirm|eval|settimeout|setinterval)\s*(?:\(|`|&#)"),
    _rule("xss-dom-sink", "xss", CRITICAL, r"document\s*\.\s*(?:cookie|domain|write|location)|window\s*\.\s*location|\.innerhtml|fromcharcode|\bexpression\s*\(|\bsrcdoc\s*="),
    _rule("xss-ssi-directive", "xss", CRITICAL, r"<!--\s*#\s*(?:exec|include|echo|config)"),
    # --- path traversal (CRS 930xxx) ---------------------------------------------------------
    _rule("traversal-dotdot-run", "path-traversal", CRITICAL, r"(?:\.\.[/\\]){2,}|(?:[/\\]\.\.){2,}"),
    _rule("traversal-system-file", "path-traversal", CRITICAL, r"/etc/(?:passwd|shadow|hosts|group|issue)\b|c:[/\\]+(?:windows|winnt|boot\.ini)|\bboot\.ini\b|\bwin\.ini\b|/proc/self/"),
    _rule("traversal-null-byte", "path-traversal", ERROR, r"\x00"),
    _rule("traversal-dotdot", "path-traversal", WARNING, r"\.\.[/\\]"),
    # --- command injection (CRS 932xxx) ------------------------------------------------------
    _rule("cmdi-chained-command", "cmdi", CRITICAL, r"(?:[;&|`]|\$\()\s*(?:cat|ls|id|whoami|uname|wget|curl|nc|netcat|bash|sh|ping|echo|rm|chmod|nslookup|dir|type|net user|ipconfig|ifconfig|sleep|ps|kill|python|perl|php)\b"),
    _rule("cmdi-substitution", "cmdi", ERROR, r"\$\([^)]*\)|`[^`]{1,80}`"),
    _rule("cmdi-shell-path", "cmdi", CRITICAL, r"/bin/(?:ba|z|k|c)?sh\b|\bcmd(?:\.exe)?\s*/c\b|\bpowershell\b"),
)  # fmt: skip


class SignatureBaseline:
    """CRS-style anomaly scoring over :data:`SIGNATURES` (see the module docstring).

    Offers ``predict_proba`` (columns: benign, attack) so evaluation treats it like a
    fitted scikit-learn classifier; ``fit`` learns nothing.
    """

    classes_ = np.array([0, 1])

    def __init__(
        self,
        signatures: Sequence[Signature] = SIGNATURES,
        threshold: int = INBOUND_THRESHOLD,
    ) -> None:
        self.signatures = tuple(signatures)
        self.threshold = threshold

    def fit(self, texts: Any, labels: Any = None) -> SignatureBaseline:
        """Nothing to learn; kept so the baseline fits where an estimator does."""
        return self

    def matches(self, text: str) -> list[Signature]:
        """The signatures that match one raw text (after normalisation), in rule order."""
        normalised = normalise_text(text)
        return [rule for rule in self.signatures if rule.pattern.search(normalised)]

    def points(self, text: str) -> int:
        """The anomaly points of one raw text."""
        return sum(rule.points for rule in self.matches(text))

    def score(self, texts: Any) -> np.ndarray:
        """``points / (points + threshold)`` per text (0.5 at the threshold)."""
        points = np.array([self.points(text) for text in as_texts(texts)], dtype=np.float64)
        return points / (points + float(self.threshold))

    def predict_proba(self, texts: Any) -> np.ndarray:
        """Two columns (benign, attack) as scikit-learn classifiers give them."""
        attack = self.score(texts)
        return np.column_stack([1.0 - attack, attack])

    def is_attack(self, texts: Any) -> list[bool]:
        """Whether each text reaches the inbound threshold."""
        return [bool(value >= 0.5) for value in self.score(texts)]
