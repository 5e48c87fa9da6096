-- Incidents and the repair audit log. The Learning issue extends these; the dashboard reads
-- repairs {total, successRate, active} from repair_audit.
CREATE TABLE incidents (
    incident_id VARCHAR PRIMARY KEY,
    opened_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ,
    platforms VARCHAR[] NOT NULL,
    severity VARCHAR NOT NULL,
    status VARCHAR NOT NULL,          -- open | resolved | escalated
    root_cause VARCHAR,
    details JSON
);

CREATE TABLE repair_audit (
    attempt_id VARCHAR PRIMARY KEY,
    ts TIMESTAMPTZ NOT NULL,
    correlation_id VARCHAR NOT NULL,
    incident_id VARCHAR,
    action VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,        -- executed | dry_run | refused | pending_approval | ...
    reason VARCHAR,
    outcome VARCHAR,                  -- worked | did_not_work | unknown | NULL while running
    finished_at TIMESTAMPTZ
);
CREATE INDEX repair_audit_ts ON repair_audit (ts);
