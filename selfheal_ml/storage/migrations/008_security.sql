-- Security: what the detector found (with sample lines as evidence) and every ban decision,
-- refusals and dry-run "would ban" included, so bans and repeat-offender counts survive a
-- restart and the audit trail says why each address was or was not blocked.
CREATE TABLE security_findings (
    finding_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,            -- brute_force | credential_stuffing | injection | ...
    scope VARCHAR NOT NULL,           -- ip | user | api_key
    value VARCHAR NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,  -- first event the rule counted
    detected_at TIMESTAMPTZ NOT NULL,
    event_count BIGINT NOT NULL,
    evidence JSON NOT NULL,           -- sample raw lines
    detail VARCHAR NOT NULL
);

CREATE TABLE ban_decisions (
    decision_id VARCHAR PRIMARY KEY,
    scope VARCHAR NOT NULL,           -- ip
    value VARCHAR NOT NULL,
    action VARCHAR NOT NULL,          -- ban | would_ban | refused
    reason VARCHAR NOT NULL,          -- the finding kind
    refusal VARCHAR,                  -- never_ban | not_an_address | ban_cap (refused only)
    origin VARCHAR NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL,
    until TIMESTAMPTZ NOT NULL,
    duration_s DOUBLE NOT NULL,
    offence INTEGER NOT NULL,         -- 1 for a first ban, 2 for the next (bantime.increment)
    first_seen TIMESTAMPTZ NOT NULL,
    event_count BIGINT NOT NULL,
    evidence JSON NOT NULL
);
