"""Every environment reports, whatever goes wrong while it is read or told.

An exception in the work of one environment (its read, or the hand-over of its read)
must become that environment's error status, and the others must still report; a
process reading environments apart that dies must leave none of them unreported.
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from environments_helpers import ENV_PICKS, R1, THREE
from projects import sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.environments.fleet import EnvironmentRead, Fleet
from migtui.core.environments.reading import read_apart
from migtui.core.models import DatabaseStatus

SECRET = "hunter2pw"
APART = ("a1", "a2", "a3", "a4", "a5")  # named by -x only: read in processes of their own
HERE = ("h1", "h2", "h3")  # with a url: read in this process
# env.py ends its process at once, without a word, for -x die=now; waits for -x sleep=S.
ENV_DIES = ENV_PICKS.replace("tenant = x.get(\"tenant\")\n", "tenant = x.get(\"tenant\")\n"
                             "if x.get(\"die\"):\n    os._exit(3)\n"
                             "__import__(\"time\").sleep(float(x.get(\"sleep\", 0)))\n")
assert "os._exit(3)" in ENV_DIES


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Five environments named by -x (env.py takes each URL from MIGTUI_TEST_URL_An),
    three with a SQLite url, and ``dies`` whose env.py ends its process; all at R1."""
    dest = tmp_path / "p"
    url = sqlite_url(tmp_path / "main.db")
    write_project(dest, ENV_DIES, url, THREE)
    entries = [f'[tool.migtui.environments.{n}]\nx = ["db={n.upper()}"]\n' for n in APART]
    for name in HERE:
        here = sqlite_url(tmp_path / f"{name}.db")
        entries.append(f'[tool.migtui.environments.{name}]\nurl = "{here}"\n')
    entries.append('[tool.migtui.environments.dies]\nx = ["die=now"]\n')
    (dest / "pyproject.toml").write_text("\n".join(entries))
    for name in APART:
        monkeypatch.setenv(f"MIGTUI_TEST_URL_{name.upper()}", sqlite_url(tmp_path / f"{name}.db"))
    monkeypatch.chdir(dest)
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(dest))))
    for env in fleet.environments:
        if env.name != "dies":
            assert fleet.project_for(env).upgrade(R1).ok
    return dest


def _read_each(project: Path, fails: str) -> dict[str, list[EnvironmentRead]]:
    """Fleet.read_each of every environment, on a thread; handing the first read of
    ``fails`` to the caller raises (with a URL and its password in the message)."""
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(project))))
    heard: dict[str, list[EnvironmentRead]] = {}
    lock = threading.Lock()

    def on_read(read: EnvironmentRead) -> None:
        name = read.environment.name
        with lock:
            heard.setdefault(name, []).append(read)
            first = len(heard[name]) == 1
        if name == fails and first:
            raise RuntimeError(f"cannot show postgresql://u:{SECRET}@db/x\nsecond line")

    thread = threading.Thread(target=fleet.read_each, args=(fleet.environments, on_read),
                              daemon=True)
    thread.start()
    thread.join(120)  # (a guard against a hang, not a limit on speed)
    assert not thread.is_alive(), f"read_each still waits; heard {sorted(heard)}"
    return heard


def _error_of(reads: list[EnvironmentRead]) -> DatabaseStatus:
    status = reads[-1].status
    assert not status.reachable and status.error
    assert "\n" not in status.error and SECRET not in status.error + status.error_details
    return status


@pytest.mark.parametrize("fails", ["h2", "a1"])
def test_an_exception_in_one_environment_becomes_its_error_and_the_others_report(
        project: Path, fails: str) -> None:
    heard = _read_each(project, fails)
    assert set(heard) == {*APART, *HERE, "dies"}
    assert all(heard[n][-1].status.current_heads == (R1,)
               for n in (*APART, *HERE) if n != fails)
    status = _error_of(heard[fails])
    assert "RuntimeError: cannot show" in status.error
    assert len(heard[fails]) == 2  # its read, then the error that telling it raised


def test_a_process_that_dies_leaves_no_environment_unreported(project: Path) -> None:
    heard = _read_each(project, "")
    status = _error_of(heard["dies"])
    assert "ended without an answer (exit status 3)" in status.error
    assert all(heard[n][-1].status.current_heads == (R1,) for n in (*APART, *HERE))


def test_read_apart_hears_every_one_when_the_listener_raises(project: Path) -> None:
    options = [ProjectOptions(cwd=str(project), x_args=(f"db={n.upper()}",)) for n in APART]
    heard: list[int] = []
    lock = threading.Lock()

    def on_status(index: int, status: DatabaseStatus) -> None:
        with lock:
            heard.append(index)
        if index in (0, 3):  # each with more of its process's share after it
            raise RuntimeError("the listener failed")

    thread = threading.Thread(target=read_apart, args=(options, on_status), daemon=True)
    thread.start()
    thread.join(120)  # (a guard against a hang, not a limit on speed)
    assert not thread.is_alive(), f"read_apart still waits; heard {sorted(heard)}"
    assert sorted(heard) == list(range(len(APART)))  # each one exactly once


def test_read_apart_returns_when_the_processes_it_stopped_are_gone(project: Path) -> None:
    """The first one is slow: the rest of its share moves to another process, and the
    slow process, once all are heard, is stopped before read_apart returns."""
    slow = ProjectOptions(cwd=str(project), x_args=("db=A1", "sleep=1.5"))
    options = [slow, *(ProjectOptions(cwd=str(project), x_args=(f"db={n.upper()}",))
                       for n in APART[1:])]
    heard: list[int] = []
    read_apart(options, lambda index, status: heard.append(index))
    assert sorted(heard) == list(range(len(options)))
    assert [p.name for p in multiprocessing.active_children()
            if p.name == "migtui-task"] == []
