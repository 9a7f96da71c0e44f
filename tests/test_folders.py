"""The user's folders (core.folders) and the files kept in them, on Linux's XDG layout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from migtui.core import folders
from migtui.core.revisions import diskcache
from migtui.tui.settings import config_path, state_path

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the XDG layout is Linux's")
XDG = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


def test_the_xdg_variables_decide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in XDG:
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("MIGTUI_CACHE_DIR", raising=False)
    assert folders.config_dir() == tmp_path / "xdg_config_home" / "migtui"
    assert folders.state_dir() == tmp_path / "xdg_state_home" / "migtui"
    assert folders.cache_dir() == tmp_path / "xdg_cache_home" / "migtui"
    assert config_path() == tmp_path / "xdg_config_home" / "migtui" / "config.toml"
    assert state_path() == tmp_path / "xdg_state_home" / "migtui" / "state.json"
    assert diskcache.cache_dir() == tmp_path / "xdg_cache_home" / "migtui"
    assert not (tmp_path / "xdg_config_home").exists(), "asking creates nothing"


def test_without_them_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in XDG:
        monkeypatch.setenv(name, "")  # empty counts as unset
    monkeypatch.setenv("HOME", str(tmp_path))
    assert folders.config_dir() == tmp_path / ".config" / "migtui"
    assert folders.state_dir() == tmp_path / ".local" / "state" / "migtui"
    assert folders.cache_dir() == tmp_path / ".cache" / "migtui"


def test_the_cache_variable_still_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MIGTUI_CACHE_DIR", str(tmp_path / "mine"))
    assert diskcache.cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("MIGTUI_CACHE_DIR", "")
    assert diskcache.cache_dir() is None
