"""Quit always quits: `migtui` in a real pseudo-terminal, with an env.py that hangs.

The graph is drawn from the revision files while env.py is stuck reading the database;
`q` must end the process (the worker thread stuck in env.py cannot be joined) and hand
the terminal back (the alternate screen left).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from projects import LINEAR, sqlite_url, write_project
from terminal_helpers import migtui_in_terminal, read_until

from projectkit.templates import ENV_STOCK

ENV_HANGS = ENV_STOCK.replace(
    "def run_migrations_online() -> None:\n",
    "def run_migrations_online() -> None:\n    import time\n    time.sleep(3600)\n",
)
assert ENV_HANGS != ENV_STOCK


def test_q_ends_the_process_while_env_py_hangs(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", env_py=ENV_HANGS,
                           url=sqlite_url(tmp_path / "hang.db"), revisions=LINEAR)
    with migtui_in_terminal(folder) as (pid, fd):
        shown = read_until(fd, b"create gadget", 60)
        assert b"create gadget" in shown, "the graph was not drawn"
        time.sleep(0.5)  # env.py is now stuck in its worker
        os.write(fd, b"q")
        rest = read_until(fd, b"\x1b[?1049l", 60)
        deadline = time.monotonic() + 60  # a guard against a hang, not a speed test
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            read_until(fd, b"\0", 0.2)  # keep the terminal drained
        assert status is not None and done == pid, "migtui did not exit after q"
        assert b"\x1b[?1049l" in rest, "the terminal was not handed back"


# Read in a process of its own (an environment only env.py can locate: read apart),
# env.py notes that process and hangs there holding the GIL (a regex that never ends,
# all in C): that process cannot notice by itself that the app is gone. Read in the
# app's own process (its own database), it answers as usual.
ENV_HOGS_APART = ENV_STOCK.replace(
    "def run_migrations_online() -> None:\n",
    "def run_migrations_online() -> None:\n"
    "    import multiprocessing, os, pathlib, re\n"
    "    if multiprocessing.parent_process() is not None:\n"
    "        pathlib.Path(config.config_file_name).with_name('env.pid').write_text("
    "str(os.getpid()))\n"
    "        re.match(r'(a+)+$', 'a' * 64 + 'b')\n",
)
assert ENV_HOGS_APART != ENV_STOCK


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone too
        return stat.read().split(") ")[-1][:1] != "Z"


def test_q_leaves_no_env_py_process_behind(tmp_path: Path) -> None:
    """Quitting while env.py hangs in a process migtui started ends that process too
    (the exit watchdog kills them before it ends migtui, whose exit handlers do not run
    then), also when migtui does not lead the terminal's session (started by a shell)."""
    folder = write_project(tmp_path / "proj", env_py=ENV_HOGS_APART,
                           url=sqlite_url(tmp_path / "hog.db"), revisions=LINEAR)
    (folder / "migtui.toml").write_text('[environments.other]\nx = ["who=other"]\n')
    with migtui_in_terminal(folder, from_shell=True) as (_shell, fd):
        shown = read_until(fd, b"create gadget", 60)
        assert b"create gadget" in shown, "the graph was not drawn"
        pid_file = folder / "env.pid"
        deadline = time.monotonic() + 60  # guards against a hang, not speed tests
        while not pid_file.exists() and time.monotonic() < deadline:
            read_until(fd, b"\0", 0.2)
        env_pid = int(pid_file.read_text())
        assert _alive(env_pid), "env.py hangs in its process"
        os.write(fd, b"q")
        assert b"migtui-exited" in read_until(fd, b"migtui-exited", 60), "q did not quit"
        while _alive(env_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(env_pid), "env.py's process outlived migtui"
