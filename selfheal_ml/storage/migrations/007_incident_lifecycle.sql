-- The typed incident lifecycle: every diagnosis revision (its JSON, selfheal_ml.lifecycle.
-- Diagnosis) and every status change (opened, diagnosed, repairing, verifying, resolved,
-- recovered, escalated) with its reason. The incidents row holds the latest of both.
CREATE TABLE incident_revisions (
    incident_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    diagnosis JSON NOT NULL,
    PRIMARY KEY (incident_id, revision)
);

CREATE TABLE incident_transitions (
    incident_id VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR
);
CREATE INDEX incident_transitions_incident ON incident_transitions (incident_id);
