"""migtui: a terminal UI for browsing and applying Alembic migrations."""

__version__ = "0.1.0"
