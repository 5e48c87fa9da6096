"""A small candidate learns to separate attacks; the scorer applies its stored threshold."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.request_classifier import (
    CANDIDATES,
    RequestScorer,
    build_candidate,
    with_threshold,
)

ATTACKS = [
    "1' or '1'='1", "1 union select null,null--", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "../../etc/passwd", "; cat /etc/shadow",
    "admin'--", "1) and sleep(5)#", "<svg/onload=prompt(1)>", "1; drop table users--",
]  # fmt: skip
BENIGN = [
    "ana", "calle mayor 12", "28001", "hello world", "jose.perez@example.com",
    "vino rioja", "get /tienda1/index.jsp", "madrid", "pillows 2 by 2", "blue shirt",
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_every_candidate_separates_a_toy_set(name: str) -> None:
    texts = (ATTACKS + BENIGN) * 3
    labels = np.array(([1] * len(ATTACKS) + [0] * len(BENIGN)) * 3)
    model = build_candidate(name, seed=0).fit(texts, labels)
    probabilities = model.predict_proba(ATTACKS + BENIGN)[:, 1]
    assert probabilities[: len(ATTACKS)].min() > probabilities[len(ATTACKS) :].max()


def test_scorer_uses_the_threshold_stored_with_the_model() -> None:
    texts = ATTACKS + BENIGN
    labels = np.array([1] * len(ATTACKS) + [0] * len(BENIGN))
    pipeline = build_candidate("logreg_char1to4_c10", seed=0).fit(texts, labels)
    strict = RequestScorer.from_thresholded(with_threshold(pipeline, 0.999), "test", "1")
    loose = RequestScorer.from_thresholded(with_threshold(pipeline, 0.5), "test", "1")
    scores = strict.score(texts)
    assert np.array_equal(scores, loose.score(texts))
    assert loose.is_attack(texts).sum() > strict.is_attack(texts).sum()
    assert strict.threshold == 0.999 and strict.score([]).shape == (0,)


def test_signature_scorer_flags_at_the_inbound_threshold() -> None:
    scorer = RequestScorer.signature_baseline()
    flags = scorer.is_attack(["1' or '1'='1", "hello"])
    assert flags.tolist() == [True, False]
    assert scorer.source == "signatures" and scorer.threshold == 0.5


def test_unknown_candidate_is_refused() -> None:
    with pytest.raises(ValidationError, match="candidate"):
        build_candidate("random_forest", seed=0)


def test_scoring_by_parameter_finds_one_injected_value_in_a_long_request() -> None:
    texts = ATTACKS + BENIGN
    labels = np.array([1] * len(ATTACKS) + [0] * len(BENIGN))
    pipeline = build_candidate("logreg_char1to4_c10", seed=0).fit(texts, labels)
    scorer = RequestScorer.from_thresholded(with_threshold(pipeline, 0.5), "test", "1")
    normal = "post /tienda1/publico/registro.jsp " + "&".join(f"f{i}=madrid" for i in range(12))
    injected = normal + "&id=1%27+or+%271%27%3D%271"
    whole = scorer.score([normal, injected])
    by_value = scorer.score_by_parameter([normal, injected])
    assert by_value[1] > by_value[0]
    assert by_value[1] - whole[1] > 0.0  # the value alone scores higher than the request
    assert np.all(by_value >= whole)
