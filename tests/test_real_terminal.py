"""The bundled sample in a real pseudo-terminal, as a new user runs it: `migtui`, `u`, `y`.

Under App.run_test() the test process's own sys.path can hide a missing project path;
here migtui runs as its own process, so env.py must find the models the way the alembic
CLI finds them (prepend_sys_path), on every env.py run.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import REPO
from terminal_helpers import migtui_in_terminal, read_until


def _sample(tmp_path: Path) -> Path:
    project = tmp_path / "sample"
    project.mkdir()
    for name in ("alembic.ini", "migrations", "sampleapp"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, project / name)
    return project


def _sample_running(tmp_path: Path, code: str) -> Path:
    """The sample, its env.py running ``code`` at every run (before its migrations)."""
    project = _sample(tmp_path)
    env_py = project / "migrations" / "env.py"
    env_py.write_text(env_py.read_text().replace(
        "def run_migrations_online()", f"{code}\n\ndef run_migrations_online()", 1))
    return project


def test_the_sample_upgrades_in_a_real_terminal(tmp_path: Path) -> None:
    project = _sample(tmp_path)
    with migtui_in_terminal(project, columns=120) as (pid, fd):
        shown = read_until(fd, b"3 pending", 60)
        assert b"3 pending" in shown and b"env.py failed" not in shown, shown[-2000:]
        os.write(fd, b"u")
        shown = read_until(fd, b"Apply (y)", 60)
        assert b"Apply (y)" in shown, shown[-2000:]
        # y applies once the dialog's checks and SQL are on screen (until then it says
        # "Still checking the plan" and does nothing): as a user does, press it again.
        for _ in range(30):
            os.write(fd, b"y")
            shown = read_until(fd, b"2 pending", 2)
            if b"2 pending" in shown:
                break
        assert b"2 pending" in shown, shown[-2000:]
        os.write(fd, b"q")
        read_until(fd, b"\x1b[?1049l", 60)
        os.waitpid(pid, 0)
    db = sqlite3.connect(project / "sample.db")
    try:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("3f1a2c9d0b11",)]
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'user'").fetchone() \
            == (1,)
    finally:
        db.close()


def test_a_key_typed_while_migtui_starts_is_not_lost(tmp_path: Path) -> None:
    """`u` typed before anything is on screen (before Textual even reads the terminal)
    opens the upgrade's confirmation once the database has been read: it does not go
    to the hidden filter box (which hid every revision without a "u")."""
    project = _sample(tmp_path)
    with migtui_in_terminal(project, columns=120) as (pid, fd):
        os.write(fd, b"u")  # at once: the terminal holds it until migtui reads it
        shown = read_until(fd, b"Apply (y)", 60)
        assert b"Apply (y)" in shown, shown[-2000:]
        os.write(fd, b"n")
        shown = read_until(fd, b"3 pending", 60)
        assert b"3 pending" in shown, shown[-2000:]
        os.write(fd, b"q")
        read_until(fd, b"\x1b[?1049l", 60)
        os.waitpid(pid, 0)
    if (project / "sample.db").exists():  # nothing was applied: n answered the dialog
        db = sqlite3.connect(project / "sample.db")
        try:
            assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'user'"
                              ).fetchone() == (0,)
        finally:
            db.close()


def test_what_env_py_writes_to_the_descriptors_goes_to_the_log_not_the_screen(
        tmp_path: Path) -> None:
    """A subprocess that env.py runs, or os.write(1, …), writes to the descriptors
    themselves, not through sys.stdout: none of it reaches the terminal (where it
    would land over the UI); the log panel shows it. After quitting, the terminal is the
    process's own again."""
    project = _sample_running(tmp_path, (
        "import os, subprocess\n"
        "os.write(1, b'RAW-ONE ' * 3 + b'\\n')\n"
        "os.write(2, b'RAW-TWO\\n')\n"
        "subprocess.run(['echo', 'FROM-A-SUBPROCESS'])\n"))
    with migtui_in_terminal(project, columns=120, from_shell=True) as (_pid, fd):
        shown = read_until(fd, b"3 pending", 60)
        os.write(fd, b"r")  # env.py runs in the app's own process
        shown += read_until(fd, b"RAW-NEVER", 5)
        assert b"3 pending" in shown and b"RAW-" not in shown and b"FROM-A" not in shown
        os.write(fd, b"l")
        shown = read_until(fd, b"FROM-A-SUBPROCESS", 30)
        assert b"RAW-ONE RAW-ONE RAW-ONE" in shown and b"RAW-TWO" in shown, shown[-3000:]
        os.write(fd, b"q")
        shown = read_until(fd, b"migtui-exited", 60)
        assert b"migtui-exited" in shown, shown[-2000:]


def test_the_read_at_launch_runs_env_py_apart_from_the_app(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `migtui` script forks its first database read before it imports Textual: the
    env.py run there sees the project as the alembic CLI would (its folder, its
    environment), nothing of the app's UI, the collector on, and no terminal to read
    from, not even /dev/tty (getpass there would write over the app and take its keys);
    what it says is the graph's status line, and its process is gone after."""
    facts = tmp_path / "facts.jsonl"
    project = _sample_running(tmp_path, (
        "import gc as _gc, json as _json, os as _os, sys as _sys\n"
        "try:\n"
        "    _os.close(_os.open('/dev/tty', _os.O_RDWR))\n"
        "    _tty_opened = True\n"
        "except OSError:\n"
        "    _tty_opened = False\n"
        f"with open({str(facts)!r}, 'a') as _f:\n"
        "    _f.write(_json.dumps({'pid': _os.getpid(), 'cwd': _os.getcwd(),\n"
        "        'textual': 'textual' in _sys.modules, 'gc': _gc.isenabled(),\n"
        "        'tty': _os.isatty(0), 'dev_tty': _tty_opened,\n"
        "        'marker': _os.environ.get('MIGTUI_TEST_MARK')})\n"
        "        + '\\n')\n"))
    monkeypatch.setenv("MIGTUI_TEST_MARK", "from-the-shell")
    with migtui_in_terminal(project, columns=120) as (pid, fd):
        shown = read_until(fd, b"3 pending", 60)
        assert b"3 pending" in shown and b"env.py failed" not in shown, shown[-2000:]
        first = json.loads(facts.read_text().splitlines()[0])
        os.write(fd, b"q")
        read_until(fd, b"\x1b[?1049l", 60)
        os.waitpid(pid, 0)
    assert first == {"pid": first["pid"], "cwd": str(project), "textual": False, "gc": True,
                     "tty": False, "dev_tty": False, "marker": "from-the-shell"}
    with pytest.raises(ProcessLookupError):  # (no read left running after the quit)
        os.kill(first["pid"], 0)
