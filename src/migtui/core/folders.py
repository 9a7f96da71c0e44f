"""Where migtui keeps its files for the user: config, remembered state, caches.

The platform's own folders, from ``platformdirs``: on Linux and the BSDs
``$XDG_CONFIG_HOME/migtui`` (else ``~/.config/migtui``), ``$XDG_STATE_HOME/migtui``
(else ``~/.local/state/migtui``) and ``$XDG_CACHE_HOME/migtui`` (else
``~/.cache/migtui``); on macOS and Windows their native equivalents. The variables are
read on every call, so a changed environment applies at once. Nothing is created here
but by :func:`write_json`.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

APP = "migtui"


def config_dir() -> Path:
    """The user's config folder (``config.toml``)."""
    import platformdirs  # (imported when asked: the first paint does without)

    return platformdirs.user_config_path(APP, appauthor=False)


def state_dir() -> Path:
    """Where migtui remembers things between runs (the chosen theme)."""
    import platformdirs

    return platformdirs.user_state_path(APP, appauthor=False)


def cache_dir() -> Path:
    """Where migtui keeps caches that can be deleted at any time."""
    import platformdirs

    return platformdirs.user_cache_path(APP, appauthor=False)


def read_json(path: Path) -> Any:
    """A JSON file's content, or None if it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, payload: Any) -> None:
    """Write a JSON file whole or not at all (a temp file beside it, then renamed)."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
