-- Incident history for the Learning agent: what each incident looked like (signature, features,
-- the anomalies and alerts grouped into it), every repair attempt with who approved it and its
-- verified outcome, the learned per-signature playbooks, and small learning watermarks.
ALTER TABLE incidents ADD COLUMN started_at TIMESTAMPTZ;       -- first symptom (if known)
ALTER TABLE incidents ADD COLUMN signature VARCHAR;            -- repair.incident_signature
ALTER TABLE incidents ADD COLUMN features JSON;                -- repair.incident_features
ALTER TABLE incidents ADD COLUMN resolved_by VARCHAR;          -- the strategy that worked
ALTER TABLE incidents ADD COLUMN source VARCHAR DEFAULT 'live'; -- live | simulated
ALTER TABLE incidents ADD COLUMN time_to_detect_s DOUBLE;
ALTER TABLE incidents ADD COLUMN time_to_repair_s DOUBLE;

CREATE TABLE incident_signals (
    incident_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- anomaly | alert
    metric VARCHAR NOT NULL,
    platform VARCHAR,
    dependency VARCHAR,
    status_class VARCHAR,
    score DOUBLE NOT NULL             -- signed, calibrated z-like scale (up > 0)
);

CREATE TABLE incident_repairs (
    attempt_id VARCHAR PRIMARY KEY,
    incident_id VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    strategy VARCHAR NOT NULL,        -- what the classifier recommends (e.g. restart_service)
    action VARCHAR NOT NULL,          -- what the executor ran
    target VARCHAR NOT NULL,
    approved_by VARCHAR NOT NULL,     -- Repair (automatic) | human | ...
    outcome VARCHAR NOT NULL,         -- worked | did_not_work | unknown
    verified_at TIMESTAMPTZ
);

CREATE TABLE repair_playbooks (
    signature VARCHAR NOT NULL,
    strategy VARCHAR NOT NULL,
    attempts BIGINT NOT NULL,
    successes BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (signature, strategy)
);

CREATE TABLE learning_state (
    name VARCHAR PRIMARY KEY,         -- e.g. labelled_at_last_training
    value VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
