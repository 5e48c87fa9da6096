"""Training the request classifier against a temporary MLflow store.

A small synthetic corpus (attack templates with random numbers and identifiers, benign
words) keeps this fast: runs are logged, the first model becomes champion with its
threshold, the champion is re-scored on the next run's held-out side and an equal
challenger takes over, and the loader serves
the champion, or the signatures when there is none. The gate's refusals (worse held-out TPR,
too many false positives) are tested on the pure decision in tests/unit/security.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.security.near_duplicates import skeleton
from selfheal_ml.tracking import Tracker
from selfheal_ml.training.request_scorer_loading import load_request_scorer
from selfheal_ml.training.request_training import (
    CHAMPION,
    EXPERIMENT,
    MODEL_NAME,
    split_texts,
    train_request_classifier,
)

TEMPLATES = [
    "{n}' or '{n}'='{n}", "{n} union select {w},{w} from {w}--", "{n}) and sleep({n})#",
    "<script>alert({n})</script>", "<img src={w} onerror=alert({n})>", "../../{w}/../etc/passwd",
    "{n}; drop table {w}--", "<svg onload=prompt({n})>", "| cat /etc/{w}", "{w}'--",
    "{n} and {n}={n}", "<body onload={w}({n})>", "{n}' having {n}={n}--", "; wget http://{w}",
]  # fmt: skip
WORDS = [
    "ana", "luis", "madrid", "rioja", "vino", "calle", "mayor", "plaza", "norte", "jamon",
    "queso", "azul", "verde", "libro", "mesa", "silla", "coche", "perro", "gato", "casa",
]  # fmt: skip


def synthetic_corpus(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, int, str]] = []
    for template in TEMPLATES:
        for _ in range(25):
            text = template.format(
                n=int(rng.integers(1, 9999)), w="".join(rng.choice(list("qwrtzkx"), 4))
            )
            rows.append((text, 1, "httpparams"))
    for _ in range(400):
        words = rng.choice(WORDS, size=int(rng.integers(1, 4)))
        rows.append((" ".join(words) + f" {int(rng.integers(0, 99))}", 0, "httpparams"))
    for index in range(40):
        rows.append((f"WHERE IS {WORDS[index % 20].upper()} {index}", 0, "libinjection_fp"))
    return pd.DataFrame(rows, columns=["text", "label", "source"])


def test_split_keeps_skeletons_apart() -> None:
    split = split_texts(synthetic_corpus(0), seed=0)
    sides = [split.fit, split.validation, split.test]
    keys = [
        {skeleton(t, bool(label)) for t, label in zip(side["text"], side["label"], strict=True)}
        for side in sides
    ]
    assert keys[0].isdisjoint(keys[2]) and keys[1].isdisjoint(keys[2])
    assert keys[0].isdisjoint(keys[1])
    assert sum(len(side) for side in sides) == len(synthetic_corpus(0))


def test_champion_then_worse_challenger(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    with caplog.at_level(logging.WARNING):
        fallback = load_request_scorer(tracker)
    assert fallback.source == "signatures" and "using signatures" in caplog.text

    corpus = synthetic_corpus(1)
    first = train_request_classifier(
        tracker, corpus, candidates=("logreg_char1to4_c10",), fp_bound=1.0
    )
    assert first.decision.promote and first.version == "1"
    assert tracker.alias_version(MODEL_NAME, CHAMPION) == "1"
    assert first.held_out["all_tpr_at_fpr_1pct"] > 0.9
    assert set(first.baseline_held_out) >= {"all_tpr_at_fpr_0", "all_tpr_at_fpr_1pct"}
    assert float(tracker.version_tags(MODEL_NAME, "1")["threshold"]) == pytest.approx(
        first.threshold
    )

    again = train_request_classifier(
        tracker, corpus, candidates=("logreg_char1to4_c10",), fp_bound=1.0
    )
    assert again.champion_held_out is not None  # the champion was loaded and scored
    assert again.champion_held_out["all_tpr_at_fpr_1pct"] == pytest.approx(
        first.held_out["all_tpr_at_fpr_1pct"]
    )
    assert again.decision.promote and tracker.alias_version(MODEL_NAME, CHAMPION) == "2"

    strict = train_request_classifier(
        tracker, corpus, candidates=("logreg_char1to4_c10",), fp_bound=0.0, margin=0.0
    )
    if strict.held_out["libinjection_fp_benign_fpr_default"] > 0.0:
        assert not strict.decision.promote
        assert tracker.alias_version(MODEL_NAME, CHAMPION) == "2"
        assert tracker.version_tags(MODEL_NAME, "3")["role"] == "challenger"

    runs = tracker.search_runs(EXPERIMENT)
    assert set(runs["tags.role"]) == {"candidate", "selected"}
    assert "metrics.test_all_tpr_at_fpr_1pct" in runs.columns
    assert "metrics.baseline_test_all_tpr_at_fpr_1pct" in runs.columns

    scorer = load_request_scorer(tracker)
    assert scorer.version == tracker.alias_version(MODEL_NAME, CHAMPION)
    assert scorer.threshold == pytest.approx(again.threshold)
    flags = scorer.is_attack(["7' or '7'='7", "<script>alert(3)</script>", "ana madrid 12"])
    assert flags.tolist() == [True, True, False]
    # no CSIC-like requests in this corpus: the model carries no application profile
    assert load_request_scorer(tracker, with_application_profile=True).application is None


def test_the_served_champion_scores_without_sklearn(tmp_path: Path) -> None:
    """The Security agent's loading path in a fresh process: the champion's serving form, with
    its threshold, scores as the scikit-learn model and imports no scikit-learn or SciPy."""
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    train_request_classifier(
        tracker, synthetic_corpus(2), candidates=("logreg_char1to4_c10",), fp_bound=1.0
    )
    texts = ["7' or '7'='7", "<script>alert(3)</script>", "ana madrid 12"]
    fitted = tracker.load_sklearn_model(f"models:/{MODEL_NAME}@{CHAMPION}")
    program = (
        "import sys; from selfheal_ml.tracking import Tracker; "
        "from selfheal_ml.training.request_scorer_loading import load_request_scorer; "
        f"s = load_request_scorer(Tracker({tracker.tracking_uri!r})); "
        f"print(s.source, s.threshold, *s.score({texts!r}).tolist(), sorted(n for n in "
        "('sklearn', 'scipy', 'skops', 'mlflow') if n in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == f"{MODEL_NAME}@{CHAMPION}"
    assert float(out[1]) == fitted.threshold
    np.testing.assert_allclose(
        [float(value) for value in out[2:5]], fitted.predict_proba(texts)[:, 1], atol=1e-12
    )
    assert out[5:] == ["[]"]


def with_shop_requests(corpus: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``corpus`` plus normal requests of a small shop (CSIC-like), for the request profile."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(600):
        word = WORDS[index % len(WORDS)]
        path = ("item", "cart")[index % 2]
        number = int(rng.integers(1, 40))
        rows.append((f"get /shop/{path}.jsp?id={number}&B1={word}", 0, "csic_normal"))
    shop = pd.DataFrame(rows, columns=["text", "label", "source"])
    return pd.concat([corpus, shop], ignore_index=True)


def test_the_champion_carries_its_application_profile(tmp_path: Path) -> None:
    """The profile learnt in training is logged with the model; the loader gives it only when
    asked (the service does not carry it); it flags a tampered value and a backup-file probe of
    that application, and a request's units are the higher of the profile's and the
    classifier's (the synthetic classifier here is too weak to say more about)."""
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    corpus = with_shop_requests(synthetic_corpus(3), 3)
    fit = split_texts(corpus, seed=1).fit
    learnt = fit[fit["source"] == "csic_normal"]["text"].iloc[0]  # e.g. get /shop/item.jsp?...
    report = train_request_classifier(
        tracker,
        corpus,
        seed=1,  # a split with false-positive-list texts held out, which the gate needs
        candidates=("logreg_char1to4_c10",),
        fp_bound=1.0,
    )
    assert report.decision.promote, report.decision.reason
    assert report.profile["profile_val_"]["classifier_scale"] == pytest.approx(report.threshold)
    assert load_request_scorer(tracker).application is None
    scorer = load_request_scorer(tracker, with_application_profile=True)
    assert scorer.application is not None
    assert scorer.application.scale == pytest.approx(
        report.profile["profile_val_"]["profile_scale"]
    )
    path, _, query = learnt.partition("?")
    texts = [
        learnt,  # a normal request the profile learnt
        f"{path}?{query.replace('&', 'A&', 1)}",  # a tampered number: id=7A
        f"{path}.BAK",  # a probe for a backup copy
    ]
    assert scorer.application.applies_to(texts)
    profile_units = scorer.application.units(texts)
    assert (profile_units >= 1.0).tolist() == [False, True, True]
    classifier_units = scorer.request_units(texts, with_profile=False)
    both = scorer.request_units(texts, with_profile=True)
    np.testing.assert_array_equal(both, np.maximum(profile_units, classifier_units))
