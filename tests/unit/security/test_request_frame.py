"""Texts come from a payload column or from method/uri/body; a missing column is named."""

from __future__ import annotations

import pandas as pd
import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.request_frame import texts_from_frame


def test_payload_column_wins_and_keeps_order() -> None:
    frame = pd.DataFrame({"id": [3, 1, 2], "payload": ["c", "a", "b"], "uri": ["x", "y", "z"]})
    assert texts_from_frame(frame) == ["c", "a", "b"]


def test_request_columns_build_the_request_text() -> None:
    frame = pd.DataFrame({"method": ["POST"], "uri": ["/login"], "body": ["user=ana"]})
    assert texts_from_frame(frame) == ["post /login user=ana"]


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValidationError, match="missing 'body'"):
        texts_from_frame(pd.DataFrame({"method": ["GET"], "uri": ["/"]}))
