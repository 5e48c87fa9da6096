"""The signature baseline flags classic attacks and leaves code-like benign text alone."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml.security.signatures import SIGNATURES, SignatureBaseline

ATTACKS = [
    "1' or '1'='1",
    "admin'--",
    "1 union all select username,password from users--",
    "1; drop table users",
    "1' and sleep(5)#",
    "-1 or 1=1",
    "1%27%20UNION%20SELECT%20null%2Cnull--",
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "%3Csvg%2Fonload%3Dalert(1)%3E",
    "../../../../etc/passwd",
    "..%2F..%2F..%2Fwindows%2Fwin.ini",
    "; cat /etc/passwd",
    "| whoami",
    '<!--#exec cmd="ls"-->',
]
BENIGN_CODE_LIKE = [
    "where is george",
    "rock and roll",
    "1 by 1 inch pillows",
    "select from the menu below",
    "Tom & Jerry",
    "I'm afraid so. You're entirely bonkers",
    "50% off -- today only",
    "email@example.com",
    "C:/Users/ana/report.pdf",
    "3 < 4 and 5 > 2",
    "order by price",
    "don't drop the ball",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_classic_attacks_are_flagged(attack: str) -> None:
    assert SignatureBaseline().is_attack([attack]) == [True]


@pytest.mark.parametrize("text", BENIGN_CODE_LIKE)
def test_benign_code_like_text_is_not_flagged(text: str) -> None:
    baseline = SignatureBaseline()
    assert baseline.is_attack([text]) == [False], [m.name for m in baseline.matches(text)]


def test_scores_are_points_over_points_plus_threshold() -> None:
    baseline = SignatureBaseline()
    scores = baseline.score(["hello", "<script>alert(1)</script>"])
    assert scores[0] == 0.0
    points = baseline.points("<script>alert(1)</script>")
    assert scores[1] == pytest.approx(points / (points + 5))
    probabilities = baseline.predict_proba(["hello", "x' or 1=1--"])
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_every_category_has_a_critical_signature_and_names_are_unique() -> None:
    names = [rule.name for rule in SIGNATURES]
    assert len(names) == len(set(names))
    critical = {rule.category for rule in SIGNATURES if rule.points >= 5}
    assert critical == {"sqli", "xss", "path-traversal", "cmdi"}
