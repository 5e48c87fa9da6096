-- Anomaly scores of every scored point, and the anomalies raised (the Predictive agent writes
-- both; GET /v1/anomalies reads anomaly_events). Detector snapshots are a versioned cache only.
CREATE TABLE anomaly_scores (
    series VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    value DOUBLE NOT NULL,
    score DOUBLE NOT NULL,
    calibrated DOUBLE NOT NULL,
    is_anomaly BOOLEAN NOT NULL,
    expected_low DOUBLE,
    expected_high DOUBLE
);

CREATE TABLE anomaly_events (
    event_id VARCHAR PRIMARY KEY,
    series VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    value DOUBLE NOT NULL,
    calibrated DOUBLE NOT NULL,
    expected_low DOUBLE,
    expected_high DOUBLE,
    component VARCHAR NOT NULL,
    correlation_id VARCHAR NOT NULL
);
CREATE INDEX anomaly_events_ts ON anomaly_events (ts);

CREATE TABLE detector_snapshots (
    name VARCHAR PRIMARY KEY,
    version INTEGER NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    blob BLOB NOT NULL
);
