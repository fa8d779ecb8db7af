"""Training, evaluation and benchmark scripts of facegraph."""
