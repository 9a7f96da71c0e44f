"""Reading TOML files: ``pyproject.toml``, ``migtui.toml`` and the user's config.

One reader for all of them; ``tomllib`` (with its compiled patterns) is imported when a
file is there to read, not at every start of a project that has none.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


class TomlError(Exception):
    """The file exists but cannot be read, or is not valid TOML (the reason, as said)."""


def load_toml(path: Path) -> dict[str, Any] | None:
    """The tables of the TOML file at ``path``; None when there is no such file."""
    try:
        with path.open("rb") as f:
            content = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TomlError(str(exc)) from exc
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data: dict[str, Any] = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TomlError(str(exc)) from exc
    return data
