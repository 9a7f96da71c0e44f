"""SVG snapshots of the graph screen and the confirmation dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import snapshot_sample, stable_sqlite_url
from textual.pilot import Pilot
from ui_helpers import make_app, settle

# The projects are under tmp_path, their databases named through /proc/self/cwd: the URL
# on screen reads the same in every run (see conftest.stable_sqlite_url).


@pytest.fixture
def sample_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return snapshot_sample(tmp_path / "sample", monkeypatch)


@pytest.fixture
def branched_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from projectkit.genproject import generate_project

    project = tmp_path / "branched"
    generate_project(project, 24, branch_every=8, heads=2, url=stable_sqlite_url("bench.db"))
    monkeypatch.chdir(project)
    return project


async def _settle(pilot: Pilot[None]) -> None:
    await settle(pilot)


def test_graph_sample(snap_compare, sample_fixed: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(sample_fixed), terminal_size=(100, 24), run_before=_settle)


def test_graph_sample_after_upgrade(snap_compare, sample_fixed: Path) -> None:  # type: ignore[no-untyped-def]
    async def upgrade(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("down", "down")
        await settle(pilot)
        pilot.app.clear_notifications()  # the toast says how long it took
        await pilot.pause()

    assert snap_compare(make_app(sample_fixed), terminal_size=(100, 24), run_before=upgrade)


def test_graph_branched(snap_compare, branched_fixed: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(branched_fixed), terminal_size=(120, 36), run_before=_settle)


def test_confirm_dialog(snap_compare, sample_fixed: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_confirm(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)

    assert snap_compare(make_app(sample_fixed), terminal_size=(100, 34), run_before=open_confirm)


def test_graph_sample_light_theme(snap_compare, sample_fixed: Path) -> None:  # type: ignore[no-untyped-def]
    async def light(pilot: Pilot[None]) -> None:
        pilot.app.theme = "textual-light"
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(sample_fixed), terminal_size=(100, 24), run_before=light)
