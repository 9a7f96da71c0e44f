"""Where migtui keeps its files for the user: config, remembered state, caches.

The platform's own folders, from ``platformdirs``: on Linux and the BSDs
``$XDG_CONFIG_HOME/migtui`` (else ``~/.config/migtui``), ``$XDG_STATE_HOME/migtui``
(else ``~/.local/state/migtui``) and ``$XDG_CACHE_HOME/migtui`` (else
``~/.cache/migtui``); on macOS and Windows their native equivalents. The variables are
read on every call, so a changed environment applies at once. Nothing is created here.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "migtui"


def config_dir() -> Path:
    """The user's config folder (``config.toml``)."""
    return platformdirs.user_config_path(APP, appauthor=False)


def state_dir() -> Path:
    """Where migtui remembers things between runs (the chosen theme)."""
    return platformdirs.user_state_path(APP, appauthor=False)


def cache_dir() -> Path:
    """Where migtui keeps caches that can be deleted at any time."""
    return platformdirs.user_cache_path(APP, appauthor=False)
