"""Benchmarks of migtui (against the alembic CLI, and on large tables); the synthetic
projects they run on are written by projectkit.genproject."""
