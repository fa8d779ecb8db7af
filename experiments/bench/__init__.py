"""Benchmarks: scripts that print measured numbers (run with ``python -m experiments.bench.<name>``)."""
