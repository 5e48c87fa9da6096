"""``pipelines/score_requests.py`` on small CSVs: order and columns kept, errors one line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.integration.pipeline_loading import load_pipeline

REPO = Path(__file__).resolve().parents[2]


def test_payload_rows_keep_their_order_and_columns(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    payloads = ["hello", "1' or '1'='1", "ana", "<script>alert(1)</script>", "", "madrid 28001"]
    pd.DataFrame({"row": range(6), "payload": payloads, "note": list("abcdef")}).to_csv(
        source, index=False
    )
    store = f"sqlite:///{tmp_path / 'absent' / 'mlflow.db'}"  # no champion: signatures
    assert (
        load_pipeline("score_requests").main(
            ["--in", str(source), "--out", str(target), "--tracking-uri", store]
        )
        == 0
    )
    result = pd.read_csv(target, keep_default_na=False)
    assert list(result.columns) == ["row", "payload", "note", "score", "is_attack"]
    assert result["row"].tolist() == list(range(6))
    assert result["note"].tolist() == list("abcdef")
    assert result["is_attack"].tolist() == [0, 1, 0, 1, 0, 0]
    assert result["score"].between(0.0, 1.0).all()
    assert not (tmp_path / "absent").exists()  # scoring does not create a tracking store


def test_request_columns_are_scored_as_whole_requests(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    frame = pd.DataFrame(
        {
            "method": ["GET", "POST", "GET"],
            "uri": ["/shop/item.jsp?id=2", "/login", "/file?name=..%2F..%2F..%2Fetc%2Fpasswd"],
            "body": ["", "user=admin'--&pwd=x", ""],
            "ip": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
        }
    )
    frame.to_csv(source, index=False)
    assert (
        load_pipeline("score_requests").main(
            ["--in", str(source), "--out", str(target), "--signatures"]
        )
        == 0
    )
    result = pd.read_csv(target)
    assert result["ip"].tolist() == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert result["is_attack"].tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("columns", "message"),
    [({"method": ["GET"], "uri": ["/"]}, "missing 'body'"), ({"text": ["x"]}, "'payload'")],
)
def test_missing_columns_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], columns: dict[str, list[str]], message: str
) -> None:
    source = tmp_path / "in.csv"
    pd.DataFrame(columns).to_csv(source, index=False)
    code = load_pipeline("score_requests").main(
        ["--in", str(source), "--out", str(tmp_path / "out.csv")]
    )
    error = capsys.readouterr().err.strip()
    assert code == 2 and message in error and "\n" not in error
    assert not (tmp_path / "out.csv").exists()


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        load_pipeline("score_requests").main(["--in", "x.csv"])
    assert raised.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_requests_of_the_learnt_application_are_scored_with_its_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A champion trained with a shop's normal requests carries the shop's profile: the shop's
    requests are scored with it (a tampered value and a backup-file probe flagged), another
    application's requests by the classifier alone, and ``--profile off`` turns it off."""
    from selfheal_ml.tracking import Tracker
    from selfheal_ml.training.request_training import split_texts, train_request_classifier
    from tests.unit.training.test_request_training import synthetic_corpus, with_shop_requests

    store = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    corpus = with_shop_requests(synthetic_corpus(3), 3)
    train_request_classifier(
        Tracker(store), corpus, seed=1, candidates=("logreg_char1to4_c10",), fp_bound=1.0
    )
    fit = split_texts(corpus, seed=1).fit
    learnt = fit[fit["source"] == "csic_normal"]["text"].iloc[0].split(" ", 1)[1]
    path, _, query = learnt.partition("?")
    shop = pd.DataFrame(
        {
            "method": ["GET"] * 3,
            "uri": [learnt, f"{path}?{query.replace('&', 'A&', 1)}", f"{path}.BAK"],
            "body": [""] * 3,
        }
    )
    source, target = tmp_path / "shop.csv", tmp_path / "out.csv"
    shop.to_csv(source, index=False)
    run = load_pipeline("score_requests").main
    assert run(["--in", str(source), "--out", str(target), "--tracking-uri", store]) == 0
    assert "and its application profile" in capsys.readouterr().err
    scored = pd.read_csv(target)
    assert scored["is_attack"].tolist()[1:] == [1, 1]
    assert ((scored["score"] >= 0.5) == (scored["is_attack"] == 1)).all()

    other = shop.assign(uri=["/blog/post", "/blog/post?id=2", "/about"])
    other.to_csv(source, index=False)
    assert run(["--in", str(source), "--out", str(target), "--tracking-uri", store]) == 0
    assert "classifier alone" in capsys.readouterr().err
    off = ["--in", str(source), "--out", str(target), "--tracking-uri", store, "--profile", "off"]
    shop.to_csv(source, index=False)
    assert run(off) == 0
    assert "application profile" not in capsys.readouterr().err
