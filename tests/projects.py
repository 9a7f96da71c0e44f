"""Small Alembic projects written into a temp folder, for the core and CLI tests.

Each builder writes a complete project (config, env.py, script template, revision
files) and returns its folder; the texts of alembic.ini, env.py (ENV_STOCK, ENV_ASYNC,
...) and script.py.mako are in projectkit.templates. Revisions are tiny: they create or
drop one table each, so a test can check what the database holds after every step.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from projectkit.templates import ENV_STOCK, SCRIPT_MAKO, alembic_ini, ini_escape


def applied(url: str) -> set[str]:
    """What alembic_version holds, read with a connection of the test's own."""
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def data_engine(url: str) -> sa.Engine:
    """An engine for a test's own reads and test data (never migtui's).

    On MySQL/MariaDB its sessions quote identifiers with double quotes (ANSI_QUOTES), so
    that one statement of test data fits the three databases, and recursive CTEs may
    count past 1000 rows.
    """
    if sa.make_url(url).get_backend_name() in ("mysql", "mariadb"):
        return sa.create_engine(url, connect_args={"init_command": (
            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES'),"
            " max_recursive_iterations = 10000000")})
    return sa.create_engine(url)


@dataclass(frozen=True)
class Rev:
    """One revision file to write."""

    revision: str
    down: str | tuple[str, ...] | None
    message: str
    table: str | None = None  # created by upgrade(), dropped by downgrade()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    date: str = "2026-01-01 10:00:00.000000"
    # Statements of upgrade() / downgrade(), one a line, instead of the table's.
    upgrade: str = ""
    downgrade: str = ""

    def source(self) -> str:
        """The Python of the revision file."""
        if self.upgrade or self.downgrade:
            up = self.upgrade or "pass"
            down = self.downgrade or "pass"
        elif self.table:
            up = (f'op.create_table("{self.table}", sa.Column("id", sa.Integer(), '
                  f'primary_key=True), sa.Column("name", sa.String(50)))')
            down = f'op.drop_table("{self.table}")'
        else:
            up = down = "pass"
        labels = self.branch_labels or None
        depends = self.depends_on or None
        revises = ", ".join(self.down) if isinstance(self.down, tuple) else (self.down or "")
        # Later lines of a body go in at the indentation of its first (dedent below).
        up, down = (body.replace("\n", "\n" + " " * 16) for body in (up, down))
        return textwrap.dedent(f'''\
            """{self.message}

            Revision ID: {self.revision}
            Revises: {revises}
            Create Date: {self.date}
            """
            from alembic import op
            import sqlalchemy as sa

            revision = {self.revision!r}
            down_revision = {self.down!r}
            branch_labels = {labels!r}
            depends_on = {depends!r}


            def upgrade() -> None:
                {up}


            def downgrade() -> None:
                {down}
            ''')


# Two steps in a line: widget, then gadget.
LINEAR = (
    Rev("a1a1a1a1a1a1", None, "create widget", "widget", date="2026-01-01 10:00:00.000000"),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "create gadget", "gadget",
        date="2026-01-02 10:00:00.000000"),
)

# One base, two heads (one labelled "left"): ready for a merge.
TWO_HEADS = (
    Rev("a1a1a1a1a1a1", None, "create widget", "widget"),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "left side", "left_t", branch_labels=("left",)),
    Rev("c3c3c3c3c3c3", "a1a1a1a1a1a1", "right side", "right_t"),
)

# Everything the graph model knows about: a branch point, a merge point, a branch
# label, a second base and a cross-branch dependency.
#
#   m4 (merge of b2, c3)         f6 (depends on b2)
#   |  \                          |
#   b2  c3                        e5 (base, label "other")
#    \  /
#     a1
RICH = (
    Rev("a1a1a1a1a1a1", None, "create widget", "widget", date="2026-02-01 09:00:00.000000"),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "left side", "left_t", branch_labels=("left",)),
    Rev("c3c3c3c3c3c3", "a1a1a1a1a1a1", "right side", "right_t"),
    Rev("d4d4d4d4d4d4", ("b2b2b2b2b2b2", "c3c3c3c3c3c3"), "merge left and right"),
    Rev("e5e5e5e5e5e5", None, "other base", "other_t", branch_labels=("other",)),
    Rev("f6f6f6f6f6f6", "e5e5e5e5e5e5", "needs left", "needs_t",
        depends_on=("b2b2b2b2b2b2",)),
)


def write_project(
    dest: Path,
    env_py: str = ENV_STOCK,
    url: str = "",
    revisions: Sequence[Rev] = LINEAR,
    *,
    section: str = "alembic",
    ini: bool = True,
    pyproject: bool = False,
) -> Path:
    """Write an Alembic project into dest and return dest.

    ``url`` goes into ``sqlalchemy.url`` (``%`` escaped); ``ini=False`` with
    ``pyproject=True`` gives a project configured only by ``[tool.alembic]``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    versions = dest / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (dest / "migrations" / "env.py").write_text(env_py)
    (dest / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO)
    for rev in revisions:
        (versions / f"{rev.revision}_{rev.message.replace(' ', '_')}.py").write_text(
            rev.source())
    if ini:
        (dest / "alembic.ini").write_text(alembic_ini(ini_escape(url), section=section))
    if pyproject:
        (dest / "pyproject.toml").write_text(textwrap.dedent("""\
            [project]
            name = "toml-only"

            [tool.alembic]
            script_location = "%(here)s/migrations"
            prepend_sys_path = ["."]
            """))
    return dest


def sqlite_url(path: Path) -> str:
    """A SQLite URL for a file."""
    return f"sqlite:///{path}"


def async_sqlite_url(path: Path) -> str:
    """An aiosqlite URL for a file."""
    return f"sqlite+aiosqlite:///{path}"


def closed_port() -> int:
    """A loopback TCP port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _logging_state() -> dict[str, Any]:
    root = logging.getLogger()
    state: dict[str, Any] = {
        "root": (root.level, list(root.handlers), root.disabled),
        "disable": logging.root.manager.disable,
    }
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            state[name] = (logger.level, list(logger.handlers), logger.disabled,
                           logger.propagate)
    return state


@contextmanager
def untouched(capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Assert that the block prints nothing to fd 1/2 and leaves logging as it was.

    A logger named "x" exists before the block: the stock env.py's ``fileConfig``
    would disable it if logging were not restored.
    """
    watched = logging.getLogger("x")
    watched.disabled = False
    capfd.readouterr()
    before = _logging_state()
    yield
    after = _logging_state()
    out, err = capfd.readouterr()
    assert out == "", f"printed to stdout: {out!r}"
    assert err == "", f"printed to stderr: {err!r}"
    assert not logging.getLogger("x").disabled
    assert after["root"] == before["root"]
    assert after["disable"] == before["disable"]
    changed = [name for name in before if after.get(name) != before[name]]
    assert not changed, f"logging changed for {changed}"


def alembic_cli(folder: Path, *args: str) -> None:
    """The alembic command line in another process: another user moving the database."""
    subprocess.run([sys.executable, "-m", "alembic", *args], cwd=folder, check=True,
                   capture_output=True, timeout=120)


# env.py that waits while a file named "hold" is beside alembic.ini (an env.py stuck on
# a prompt, a socket or a lock), after writing "entered".
ENV_HOLDS = ENV_STOCK.replace(
    'url = config.get_main_option("sqlalchemy.url")',
    'import pathlib, time\n'
    'here = pathlib.Path(config.config_file_name).parent\n'
    '(here / "entered").touch()\n'
    'while (here / "hold").exists():\n'
    '    time.sleep(0.05)\n'
    'url = config.get_main_option("sqlalchemy.url")')
