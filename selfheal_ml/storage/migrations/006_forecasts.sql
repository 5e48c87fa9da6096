-- The latest forecast per series (the Predictive agent refreshes it on its schedule; the API
-- serves GET /v1/forecast/{series} from here, so no request ever waits for a model fit).
CREATE TABLE forecasts (
    series VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    model VARCHAR NOT NULL,
    fallback_used BOOLEAN NOT NULL,
    step INTEGER NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    mean DOUBLE NOT NULL,
    lo_80 DOUBLE,
    hi_80 DOUBLE,
    lo_95 DOUBLE,
    hi_95 DOUBLE,
    PRIMARY KEY (series, step)
);

CREATE TABLE breach_predictions (
    series VARCHAR NOT NULL,
    predicted_at TIMESTAMPTZ NOT NULL,
    limit_value DOUBLE NOT NULL,
    eta TIMESTAMPTZ NOT NULL,
    probability DOUBLE NOT NULL,
    slope_per_hour DOUBLE NOT NULL
);
