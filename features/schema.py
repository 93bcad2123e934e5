"""Warehouse tables owned by the feature store (added to ``app.runtime.warehouse_migrations``)."""

from __future__ import annotations

from ingestion.warehouse import Migration

# One row per (entity, feature, as_of); the batch writer keeps that unique (DuckDB's ART index
# would slow bulk inserts several-fold for no added safety: every write replaces whole ranges).
FEATURE_VALUES_DDL = """
CREATE TABLE IF NOT EXISTS feature_values (
  entity VARCHAR NOT NULL,
  feature VARCHAR NOT NULL,
  version VARCHAR NOT NULL,
  as_of DATE NOT NULL,
  value DOUBLE NOT NULL,
  computed_at TIMESTAMP NOT NULL
)
"""

# The last successful materialization of each feature, for freshness checks.
FEATURE_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS feature_runs (
  feature VARCHAR PRIMARY KEY,
  version VARCHAR NOT NULL,
  source_state VARCHAR NOT NULL,
  rows_written BIGINT NOT NULL,
  since DATE,
  computed_at TIMESTAMP NOT NULL
)
"""

# Top-of-book quotes (none ship with the demo data; the streaming engine uses a labelled
# synthetic generator instead). Batch quote features are computed from whatever is loaded here.
QUOTES_DDL = """
CREATE TABLE IF NOT EXISTS quotes (
  ticker VARCHAR NOT NULL,
  ts TIMESTAMP NOT NULL,
  bid DOUBLE NOT NULL,
  ask DOUBLE NOT NULL,
  bid_size DOUBLE NOT NULL,
  ask_size DOUBLE NOT NULL,
  source VARCHAR NOT NULL,
  PRIMARY KEY (ticker, ts)
)
"""

# Lineage: which engine (arrays, sql, spark) and which version of it computed the last run.
FEATURE_RUNS_ENGINE_DDL = """
ALTER TABLE feature_runs ADD COLUMN engine VARCHAR;
ALTER TABLE feature_runs ADD COLUMN engine_version VARCHAR
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration("features_0001_feature_values", FEATURE_VALUES_DDL),
    Migration("features_0002_feature_runs", FEATURE_RUNS_DDL),
    Migration("features_0003_quotes", QUOTES_DDL),
    Migration("features_0004_feature_runs_engine", FEATURE_RUNS_ENGINE_DDL),
)
