-- Durable repair state (issue 18): what the safety guard, the approval flow and the Repair
-- agent kept only in memory, so that a crash (kill -9) neither orphans an approval nor lets a
-- crash loop walk around cooldowns, rate limits and circuit breakers. Each row is written
-- when its state changes; on start the service and the Repair agent read them back.
-- (009 is left free for a concurrent branch.)

-- High-risk requests waiting for a person, and what became of them.
CREATE TABLE repair_approvals (
    approval_id VARCHAR PRIMARY KEY,       -- the pending_approval row of repair_audit
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    state VARCHAR NOT NULL,                -- pending | approved | denied | expired
    resolved_by VARCHAR,
    resolved_at TIMESTAMPTZ,
    request JSON NOT NULL,                 -- the RepairRequest (action, target, params, ...)
    answer JSON                            -- the attempt made when resolved (NULL while pending)
);
CREATE INDEX repair_approvals_state ON repair_approvals (state);

-- Every executed repair: the guard's cooldown and rate-limit windows are rebuilt from
-- started_at per target; rows with finished_at NULL are executed but not yet verified.
CREATE TABLE repair_executions (
    attempt_id VARCHAR PRIMARY KEY,        -- the executed row of repair_audit
    target VARCHAR NOT NULL,
    platform VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome VARCHAR,                       -- worked | did_not_work | unknown (NULL: unverified)
    request JSON NOT NULL
);
CREATE INDEX repair_executions_started ON repair_executions (started_at);

-- The circuit breaker of each target (no row: closed, no failures).
CREATE TABLE repair_breakers (
    target VARCHAR PRIMARY KEY,
    failures INTEGER NOT NULL,
    opened_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The Repair agent's case per incident (plan, step, attempt, deadlines), so open incidents
-- resume where they were.
CREATE TABLE repair_cases (
    incident_id VARCHAR PRIMARY KEY,
    state VARCHAR NOT NULL,                -- ready | retry | approval | verifying | resolved | ...
    finished BOOLEAN NOT NULL,
    body JSON NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX repair_cases_finished ON repair_cases (finished);
