-- AlertManager state (Prometheus Alertmanager semantics): alert instances, silences, the
-- aggregation groups with their timers, the per-notifier notification log (so a restart does
-- not re-notify), a delivery history and the dashboard counters.
CREATE TABLE alerts (
    alert_id VARCHAR PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,     -- Alertmanager label-set hash, hex
    labels JSON NOT NULL,
    annotations JSON NOT NULL,
    severity VARCHAR NOT NULL,        -- critical | warning | info (also the severity label)
    status VARCHAR NOT NULL,          -- firing | resolved
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,     -- expected end while firing; resolution time after
    updated_at TIMESTAMPTZ NOT NULL,
    generator_url VARCHAR NOT NULL,
    auto_resolved BOOLEAN NOT NULL,
    in_group BOOLEAN NOT NULL         -- still part of its aggregation group (until flushed)
);

CREATE TABLE alert_groups (
    group_key VARCHAR PRIMARY KEY,
    group_labels JSON NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    next_flush_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_nflog (
    group_key VARCHAR NOT NULL,
    notifier VARCHAR NOT NULL,
    notified_at TIMESTAMPTZ NOT NULL,
    firing JSON NOT NULL,             -- fingerprints sent as firing last time
    resolved JSON NOT NULL,           -- fingerprints sent as resolved last time
    PRIMARY KEY (group_key, notifier)
);

CREATE TABLE alert_notifications (
    ts TIMESTAMPTZ NOT NULL,
    group_key VARCHAR NOT NULL,
    notifier VARCHAR NOT NULL,
    status VARCHAR NOT NULL,          -- firing | resolved (payload status)
    alerts INTEGER NOT NULL,
    ok BOOLEAN NOT NULL,
    error VARCHAR
);

CREATE TABLE alert_silences (
    silence_id VARCHAR PRIMARY KEY,
    matchers JSON NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    created_by VARCHAR NOT NULL,
    comment VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_counters (
    name VARCHAR PRIMARY KEY,         -- total | auto_resolved | notifications_sent | ...
    value BIGINT NOT NULL
);
