"""Benchmark helpers: synthetic Alembic projects and large tables for migtui."""
