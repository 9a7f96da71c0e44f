"""Real git repositories for the history tests (made under tmp_path, never /work/main)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from projects import LINEAR, Rev, sqlite_url, write_project

BASE = LINEAR[0]  # a1a1a1a1a1a1: creates widget
ON_A = Rev("aaaa0000aaaa", BASE.revision, "add a table", "a_table",
           date="2026-03-01 10:00:00.000000")
ON_B = Rev("bbbb1111bbbb", BASE.revision, "add b table", "b_table",
           date="2026-03-02 10:00:00.000000")


def git(folder: Path, *args: str) -> str:
    """Run git in the test's own repository."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


def two_branches(tmp_path: Path, url: str | None = None) -> tuple[Path, str]:
    """A project in a git repository: the base revision on main, then branch-a adds
    ON_A and branch-b adds ON_B (each in its own commit). Checked out: branch-a.
    The database lives outside the repository. Returns (folder, database URL)."""
    url = url or sqlite_url(tmp_path / "db.sqlite")
    project = write_project(tmp_path / "proj", url=url, revisions=(BASE,))
    (project / ".gitignore").write_text("__pycache__/\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "base revision")
    versions = project / "migrations" / "versions"
    for branch, rev in (("branch-b", ON_B), ("branch-a", ON_A)):
        git(project, "checkout", "-q", "-b", branch, "main")
        name = f"{rev.revision}_{rev.message.replace(' ', '_')}.py"
        (versions / name).write_text(rev.source())
        git(project, "add", str(versions / name))
        git(project, "commit", "-q", "-m", f"{rev.message} on {branch}")
    return project, url
