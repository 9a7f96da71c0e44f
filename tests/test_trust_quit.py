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
