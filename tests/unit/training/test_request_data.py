"""The shared security data loads into labelled, de-duplicated texts (skips without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.request_text import normalise_text
from selfheal_ml.training.request_data import SOURCES, load_security_texts

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "security"


@pytest.mark.skipif(not DATA.is_dir(), reason="shared security data not present")
def test_every_source_loads_with_its_labels() -> None:
    frame = load_security_texts(DATA)
    assert set(frame["source"]) == set(SOURCES)
    labels = frame.groupby("source")["label"].agg(set).to_dict()
    assert labels["libinjection"] == {1} and labels["csic_anomalous"] == {1}
    assert labels["libinjection_fp"] == {0} and labels["csic_normal"] == {0}
    assert labels["httpparams"] == {0, 1} and labels["sqli_kaggle"] == {0, 1}
    keys = frame["text"].map(normalise_text) + frame["label"].astype(str)
    assert not keys.duplicated().any()
    assert (frame["copies"] >= 1).all()
    normal = frame[frame["source"] == "csic_normal"]
    assert normal["copies"].sum() == 36_000  # every normal request is one row's copy
    assert (frame["source"] == "libinjection_fp").sum() > 300


def test_missing_folder_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="data_dir"):
        load_security_texts(tmp_path / "absent")
