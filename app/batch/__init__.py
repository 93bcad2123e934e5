"""The overnight batch: one idempotent command that a scheduler runs (docs/batch.md)."""
