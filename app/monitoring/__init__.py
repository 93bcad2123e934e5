"""Model and data monitoring: drift, freshness, latency, alerts (docs/monitoring.md)."""
