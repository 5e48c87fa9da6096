-- Metrics: raw points in long format, the series catalogue, minute and hour rollups and the
-- rollup watermarks. The raw table has no index on purpose: appends are bulk and DuckDB's
-- per-row-group min/max (zonemaps) prune time-range scans because points arrive in ts order.
CREATE TABLE metric_points (
    series VARCHAR NOT NULL,          -- events.series_key(name, labels)
    ts TIMESTAMPTZ NOT NULL,
    value DOUBLE NOT NULL
);

-- One row per series. Unique by construction (MetricsStore inserts only series it has not
-- seen, skipping any already present) rather than by a PRIMARY KEY: the first insert into an
-- ART index costs more than a whole 10k-point append. first_seen/last_seen are exact once
-- rolled up; before that they are bounds that MetricsStore.catalogue() tightens at read time.
CREATE TABLE metric_series (
    series VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    labels MAP(VARCHAR, VARCHAR) NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL
);

CREATE TABLE metric_rollup_minute (
    series VARCHAR NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,      -- bucket start (UTC), buckets are [bucket, bucket + 1 min)
    count BIGINT NOT NULL,
    mean DOUBLE NOT NULL,
    min DOUBLE NOT NULL,
    max DOUBLE NOT NULL,
    p50 DOUBLE NOT NULL,
    p95 DOUBLE NOT NULL,
    p99 DOUBLE NOT NULL,
    PRIMARY KEY (series, bucket)
);

CREATE TABLE metric_rollup_hour (
    series VARCHAR NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,      -- bucket start (UTC), buckets are [bucket, bucket + 1 h)
    count BIGINT NOT NULL,
    mean DOUBLE NOT NULL,
    min DOUBLE NOT NULL,
    max DOUBLE NOT NULL,
    p50 DOUBLE NOT NULL,
    p95 DOUBLE NOT NULL,
    p99 DOUBLE NOT NULL,
    PRIMARY KEY (series, bucket)
);

-- Progress markers: rollup_minute / rollup_hour = every bucket starting before `until` is
-- rolled up; raw_deleted_before = retention deleted the raw points before `until`.
CREATE TABLE metric_watermarks (
    name VARCHAR PRIMARY KEY,
    until TIMESTAMPTZ NOT NULL
);
