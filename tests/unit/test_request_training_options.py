"""The request pipeline's options, parsed without importing the pipeline, keep its defaults."""

from __future__ import annotations

from selfheal_ml import request_training_options as options


def test_defaults_match_the_package() -> None:
    from selfheal_ml.security.promotion import DEFAULT_FP_BOUND, DEFAULT_MARGIN
    from selfheal_ml.security.request_classifier import CANDIDATES
    from selfheal_ml.tracking import DEFAULT_TRACKING_URI
    from selfheal_ml.training.request_data import DEFAULT_DATA_DIR
    from selfheal_ml.training.request_training import (
        DEFAULT_FP_LIST_TARGET,
        DEFAULT_FP_WEIGHT,
        DEFAULT_TARGET_FPR,
    )

    assert tuple(sorted(CANDIDATES)) == options.CANDIDATES
    assert (options.DATA_DIR, options.TRACKING_URI) == (DEFAULT_DATA_DIR, DEFAULT_TRACKING_URI)
    assert (options.FP_BOUND, options.MARGIN) == (DEFAULT_FP_BOUND, DEFAULT_MARGIN)
    assert (options.TARGET_FPR, options.FP_WEIGHT, options.FP_LIST_TARGET) == (
        DEFAULT_TARGET_FPR,
        DEFAULT_FP_WEIGHT,
        DEFAULT_FP_LIST_TARGET,
    )


def test_options_parse_without_the_pipeline() -> None:
    args = options.parse_args(["--candidate", options.CANDIDATES[0], "--sample", "10"])
    assert args.candidate == [options.CANDIDATES[0]] and args.sample == 10
