"""User settings: remapped keys and the remembered theme.

Keys come from ``~/.config/migtui/config.toml`` (or ``$XDG_CONFIG_HOME``), then from
``[tool.migtui]`` in the project's ``pyproject.toml``, which wins::

    theme = "textual-light"
    [keys]
    "graph.upgrade_step" = "ctrl+u"

The theme chosen in the app is remembered in ``~/.local/state/migtui/state.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migtui.core.folders import config_dir, state_dir
from migtui.core.toml_files import TomlError, load_toml


def config_path() -> Path:
    """Where the user's config file lives."""
    return config_dir() / "config.toml"


def state_path() -> Path:
    """Where migtui remembers the chosen theme."""
    return state_dir() / "state.json"


@dataclass
class Settings:
    """What the config files asked for, and what was wrong with them."""

    keymap: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    problems: list[str] = field(default_factory=list)


def _read_toml(path: Path, settings: Settings, section: tuple[str, ...]) -> dict[str, Any]:
    try:
        data = load_toml(path)
    except TomlError as exc:
        settings.problems.append(f"{path}: {exc}; using the default keys")
        return {}
    if data is None:
        return {}
    for key in section:
        value = data.get(key, {})
        data = value if isinstance(value, dict) else {}
    return data


def _apply(data: dict[str, Any], where: str, settings: Settings, known: set[str]) -> None:
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        settings.problems.append(f"{where}: [keys] must be a table of binding id = \"key\"")
        return
    for binding_id, key in keys.items():
        if binding_id not in known:
            settings.problems.append(f"{where}: unknown binding id {binding_id!r} (ignored)")
        elif not isinstance(key, str) or not key.strip():
            settings.problems.append(f"{where}: key for {binding_id!r} must be a string")
        else:
            settings.keymap[binding_id] = key.strip()
    theme = data.get("theme")
    if isinstance(theme, str):
        settings.theme = theme


def load_settings(project_dir: Path, known_ids: Iterable[str],
                  themes: Iterable[str]) -> Settings:
    """Read the user's config and the project's [tool.migtui]; never raises. A theme not
    among ``themes`` is a problem, and no theme is set."""
    settings = Settings()
    known = set(known_ids)
    user = config_path()
    _apply(_read_toml(user, settings, ()), str(user), settings, known)
    pyproject = project_dir / "pyproject.toml"
    project = _read_toml(pyproject, settings, ("tool", "migtui"))
    _apply(project, f"{pyproject} [tool.migtui]", settings, known)
    if settings.theme is None:
        settings.theme = remembered_theme()
    if settings.theme is not None and settings.theme not in set(themes):
        settings.problems.append(f"unknown theme {settings.theme!r}")
        settings.theme = None
    return settings


def remembered_theme() -> str | None:
    """The theme the user last chose in the app, if any."""
    try:
        value = json.loads(state_path().read_text()).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def remember_theme(theme: str) -> None:
    """Remember the chosen theme for the next start (best effort)."""
    path = state_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"theme": theme}))
    except OSError:
        pass


def binding_ids(classes: Iterable[type]) -> set[str]:
    """Every binding id declared by the given classes and their subclasses."""
    ids: set[str] = set()
    pending = list(classes)
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if not cls.__module__.startswith("migtui"):
            continue
        for binding in getattr(cls, "BINDINGS", []):
            binding_id = getattr(binding, "id", None)
            if binding_id:
                ids.add(binding_id)
    return ids
