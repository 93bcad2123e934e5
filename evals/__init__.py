"""Quality evaluations and performance benchmarks (``python -m evals.<name>``)."""
