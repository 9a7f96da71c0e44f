"""Helpers of the core action tests (test_core_actions.py, test_core_urls.py)."""

from __future__ import annotations

from pathlib import Path

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.models import ActionResult


def one_line(text: str) -> bool:
    """A non-empty message on exactly one line."""
    return bool(text.strip()) and "\n" not in text


def assert_ran(result: ActionResult, word: str, revision: str) -> None:
    """The log holds Alembic's "Running <word> ... <revision>" line."""
    assert any(f"Running {word}" in line and revision in line for line in result.log), result.log


def open_project(folder: Path, **options: object) -> Project:
    return Project.open(ProjectOptions(cwd=str(folder), **options))  # type: ignore[arg-type]
