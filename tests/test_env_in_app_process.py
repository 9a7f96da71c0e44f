"""What env.py does in migtui's own process, as the alembic CLI would let it.

It never takes the keys typed into the app. Textual reads them from the terminal's
descriptor itself; an env.py run in the app's own process (a refresh, a step, the tables
screen) that calls ``input()`` or reads ``sys.stdin`` would otherwise race it for them
(and block, holding the lock every env.py run takes). While env.py runs, sys.stdin is
empty: it gets an end of file at once, as the alembic CLI's env.py does with its input
redirected from /dev/null. (Tasks in processes of their own have /dev/null as input and
no controlling terminal: tests/test_real_terminal.py.)

And an env.py that sets a signal handler (at import, as some settings modules do) works
on migtui's worker threads as it does on the CLI's main thread: Python allows handlers
there only, so the call is passed over, and the app's own handlers stay.
"""

from __future__ import annotations

import io
import signal
import sys
import threading
from pathlib import Path

import pytest
from projects import ENV_STOCK, LINEAR, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.models import DatabaseState


def _env_asking(answers: Path) -> str:
    return ENV_STOCK.replace(
        "def run_migrations_online() -> None:\n",
        "def run_migrations_online() -> None:\n"
        "    import sys\n"
        "    try:\n"
        "        typed = input('password: ')\n"
        "    except EOFError:\n"
        "        typed = '<end of file>'\n"
        "    rest = sys.stdin.read()\n"
        f"    with open({str(answers)!r}, 'a') as noted:\n"
        "        noted.write(f'{typed}|{rest}\\n')\n",
    )


def test_input_in_env_py_gets_an_end_of_file_not_the_apps_keys(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = tmp_path / "answers.txt"
    folder = write_project(tmp_path / "proj", env_py=_env_asking(answers),
                           url=sqlite_url(tmp_path / "x.db"), revisions=LINEAR)
    keys = io.StringIO("y\nq\n")  # what the user typed, waiting to be read
    monkeypatch.setattr(sys, "stdin", keys)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    project.upgrade(LINEAR[0].revision)
    status = project.status()
    assert status.state is DatabaseState.OK and status.current_heads == (LINEAR[0].revision,)
    runs = answers.read_text().splitlines()  # (the upgrade's runs, then the status read)
    assert len(runs) >= 2 and set(runs) == {"<end of file>|"}, runs
    assert sys.stdin is keys and keys.read() == "y\nq\n", "the keys are still there"


ENV_SETS_A_HANDLER = ENV_STOCK.replace(
    "def run_migrations_online() -> None:\n",
    "import signal\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n\n\n"
    "def run_migrations_online() -> None:\n",
)


def test_a_signal_handler_set_by_env_py_on_a_worker_thread(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", env_py=ENV_SETS_A_HANDLER,
                           url=sqlite_url(tmp_path / "x.db"), revisions=LINEAR)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    before = signal.getsignal(signal.SIGTERM)
    read: list[object] = []
    worker = threading.Thread(target=lambda: read.append(project.upgrade(LINEAR[0].revision)
                                                         and project.status()))
    worker.start()
    worker.join(60)
    (status,) = read
    assert getattr(status, "state", None) is DatabaseState.OK, status
    assert getattr(status, "current_heads", None) == (LINEAR[0].revision,)
    assert signal.getsignal(signal.SIGTERM) is before, "the app's handler stays"
    assert signal.signal is not None and signal.signal.__module__ in ("_signal", "signal")
