"""The project's git history, read with the ``git`` command (read-only, with timeouts).

Every function returns None (or an empty result) instead of raising when git is not
installed, the folder is not in a repository, or git does not answer in time: the
callers say so and fall back to what works without git.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 15.0  # seconds for one git command; git never waits for a terminal


class GitUnavailable(Exception):
    """git is not installed, the folder is not in a repository, or git failed."""


@dataclass(frozen=True)
class Commit:
    """One commit, as shown to the user."""

    sha: str
    subject: str
    date: str  # ISO 8601, the committer date
    branches: tuple[str, ...] = ()  # the branches (local and remote) that hold it

    @property
    def short(self) -> str:
        return self.sha[:10]


def _git(folder: str | Path, *args: str, check: bool = True) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
           "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args], cwd=str(folder), env=env,
            capture_output=True, timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError as exc:
        raise GitUnavailable("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitUnavailable(f"git did not answer within {GIT_TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise GitUnavailable(f"git cannot run: {exc}") from exc
    if check and done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitUnavailable(first[0] if first else f"git {args[0]} failed")
    return done.stdout


def repo_root(folder: str | Path) -> Path:
    """The top folder of the git work tree holding ``folder``; GitUnavailable if none."""
    if not Path(folder).is_dir():
        raise GitUnavailable(f"{folder} is not a folder")
    out = _git(folder, "rev-parse", "--show-toplevel").decode("utf-8", "replace").strip()
    if not out:
        raise GitUnavailable(f"{folder} is not in a git work tree")
    return Path(out)


def _relative(root: Path, folder: str | Path) -> str:
    real = os.path.realpath(folder)
    return os.path.relpath(real, os.path.realpath(root))


def _definition_pattern(revision: str) -> str:
    # `revision = "abc"` or `revision: str = 'abc'`, at the start of a line.
    return rf"^revision(\s*:[^=]*)?\s*=\s*['\"]{re.escape(revision)}['\"]"


def find_definition(root: Path, folders: list[str], revision: str,
                    limit: int = 50) -> tuple[str, str] | None:
    """(commit, path in the repository) of the newest commit, on any branch, whose tree
    has a file in ``folders`` defining ``revision``; None when history has none."""
    relative = [_relative(root, f) for f in folders]
    out = _git(root, "log", "--all", "--format=%H", f"-S{revision}", f"-n{limit}", "--",
               *relative)
    pattern = _definition_pattern(revision)
    for sha in out.decode("ascii", "replace").split():
        found = _git(root, "grep", "-l", "-E", pattern, sha, "--", *relative, check=False)
        for line in found.decode("utf-8", "replace").splitlines():
            # "<sha>:<path>"
            _commit, _sep, path = line.partition(":")
            if path.endswith(".py"):
                return sha, path
    return None


def grep_definition(root: Path, commit: str, folders: list[str], revision: str
                    ) -> str | None:
    """The path of the file in ``commit`` that defines ``revision``, or None."""
    relative = [_relative(root, f) for f in folders]
    found = _git(root, "grep", "-l", "-E", _definition_pattern(revision), commit, "--",
                 *relative, check=False)
    for line in found.decode("utf-8", "replace").splitlines():
        _commit, _sep, path = line.partition(":")
        if path.endswith(".py"):
            return path
    return None


def show(root: Path, commit: str, path: str) -> bytes:
    """The bytes of ``path`` as ``commit`` holds it."""
    return _git(root, "show", f"{commit}:{path}")


def commit_info(root: Path, commit: str) -> Commit:
    """Subject, date and the branches holding ``commit``."""
    out = _git(root, "show", "-s", "--format=%H%x1f%s%x1f%cI", commit)
    sha, subject, date = [*out.decode("utf-8", "replace").strip().split("\x1f"), "", ""][:3]
    refs = _git(root, "branch", "-a", "--contains", sha, "--format=%(refname:short)",
                check=False)
    branches = tuple(b.strip() for b in refs.decode("utf-8", "replace").splitlines()
                     if b.strip() and "HEAD" not in b)
    return Commit(sha, subject, date, branches)


def file_versions(root: Path, path: str, limit: int = 100) -> list[str]:
    """Commits (newest first, any branch) that changed the file at ``path``."""
    rel = _relative(root, path)
    out = _git(root, "log", "--all", "--format=%H", f"-n{limit}", "--", rel, check=False)
    return out.decode("ascii", "replace").split()


def relative_path(root: Path, path: str) -> str:
    """``path`` relative to the repository (as git names it)."""
    return _relative(root, path)
