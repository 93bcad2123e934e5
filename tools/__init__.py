"""Agent tools: guarded SQL, document search, risk and PD models, model registry."""
