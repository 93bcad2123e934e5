"""Reports built from published batch runs: the T+1 morning risk report (docs/batch.md)."""
