"""Generated projects of the shapes issue #20 found in real ones, on screen.

Case 3: two current heads where one branch depends on the other (expand/contract):
Alembic's version table holds only the contract head, `alembic current` lists both, and
so must the graph and the status line. A Flask-Migrate style env.py computes the URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from projects import TWO_HEADS, Rev, closed_port, sqlite_url, write_project
from textual.widgets import OptionList
from ui_helpers import graph_lines, make_app, settle, status_text

from migtui.core.env.capture import captured
from migtui.screens.dialogs import ChooseScreen
from projectkit.templates import alembic_ini
from tests.real_projects import (
    ENV_FLASK_STYLE,
    FLASK_URL_VARIABLE,
    expand_contract,
    write_expand_contract,
)

EXPAND_HEAD = expand_contract(4)[4].revision  # e...3
CONTRACT_HEAD = expand_contract(4)[8].revision  # c...3


def row_of(app: object, revision: str) -> str:
    """The drawn row whose id column is this revision (not one that depends on it)."""
    for line in graph_lines(app):  # type: ignore[arg-type]
        if line.lstrip("●○·│─╮╯╭╰┤├┼┴┬ ").startswith(revision[:12]):
            return line
    raise AssertionError(f"{revision} not shown")


def _alembic_upgrade(folder: Path, target: str) -> None:
    """What `alembic upgrade TARGET` does in that folder."""
    with captured():
        command.upgrade(Config(str(folder / "alembic.ini")), target)


def _alembic_current(folder: Path) -> str:
    cfg = Config(str(folder / "alembic.ini"))
    with captured():
        cfg.print_stdout = lambda text, *args: lines.append(text % args if args else text)
        lines: list[str] = []
        command.current(cfg)
    return "\n".join(lines)


async def test_expand_and_contract_heads_both_current(tmp_path: Path, db_url: str) -> None:
    folder = write_expand_contract(tmp_path / "p", db_url, releases=4)
    _alembic_upgrade(folder, "heads")
    current = _alembic_current(folder)
    assert EXPAND_HEAD in current and CONTRACT_HEAD in current  # Alembic lists both
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert "(current)" in row_of(app, CONTRACT_HEAD)
        assert "(current)" in row_of(app, EXPAND_HEAD)
        status = " ".join(status_text(app).split())
        assert f"current: {CONTRACT_HEAD[:12]}, {EXPAND_HEAD[:12]}" in status
        assert "up to date" in status


async def test_flask_style_env_py_finds_its_database(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FLASK_URL_VARIABLE, db_url)
    folder = write_expand_contract(tmp_path / "p", "", releases=4, env_py=ENV_FLASK_STYLE)
    _alembic_upgrade(folder, "expand@head")
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        status = " ".join(status_text(app).split())
        assert "unreachable" not in status and "failed" not in status
        assert f"current: {EXPAND_HEAD[:12]}" in status
        assert "4 pending" in status
        assert "(current)" in row_of(app, EXPAND_HEAD)
        assert "(current)" not in row_of(app, CONTRACT_HEAD)


def _alembic_would_run(folder: Path, head: str) -> int:
    """How many revisions `alembic upgrade HEAD` runs from the database's heads now
    (Alembic's own plan: the revisions command.upgrade walks)."""
    cfg = Config(str(folder / "alembic.ini"))
    with captured():
        script = ScriptDirectory.from_config(cfg)
        engine = sa.create_engine(cfg.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_heads()
        engine.dispose()
        return len(script._upgrade_revs(head, current))


async def test_which_branch_counts_what_alembic_runs(tmp_path: Path, db_url: str) -> None:
    # Contract revisions 1 and 3 depend on expand 1 and 3: going to the contract head
    # also runs expand 0..3, as Alembic does.
    folder = write_expand_contract(tmp_path / "p", db_url, releases=4, every_depends=2)
    _alembic_upgrade(folder, expand_contract(4)[0].revision)  # the base: both branches next
    to_expand = _alembic_would_run(folder, EXPAND_HEAD)
    to_contract = _alembic_would_run(folder, CONTRACT_HEAD)
    assert (to_expand, to_contract) == (4, 8)
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ChooseScreen)
        options = app.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        # What the branch is, then (a second line) where it leads and what that runs.
        assert any(f"[expand]  expand 0\n→ head {EXPAND_HEAD[:12]} "
                   f"({to_expand} pending up to there)" in s for s in shown), shown
        assert any(f"[contract]  contract 0\n→ head {CONTRACT_HEAD[:12]} "
                   f"({to_contract} pending up to there, 4 of them on other branches)" in s
                   for s in shown), shown


async def test_env_py_failure_is_not_called_unreachable(tmp_path: Path) -> None:
    # An alembic.ini without logging sections: the stock env.py's fileConfig raises
    # KeyError: 'formatters' before any connection is tried.
    folder = write_expand_contract(tmp_path / "p", sqlite_url(tmp_path / "db.sqlite"), 2)
    (folder / "alembic.ini").write_text(alembic_ini(sqlite_url(tmp_path / "db.sqlite"),
                                                    logging=False))
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        status = " ".join(status_text(app).split())
        assert "✗ env.py failed (env.py, line " in status
        assert "formatters" in status
        assert "unreachable" not in status
        await pilot.press("u")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("env.py failed (env.py, line ") for m in messages), messages
        assert not any("cannot be reached" in m for m in messages)


async def test_a_database_that_does_not_answer_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql://u:pw@127.0.0.1:{closed_port()}/db"
    folder = write_expand_contract(tmp_path / "p", url, 2)
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        status = " ".join(status_text(app).split())
        assert "✗ database unreachable: " in status and "env.py failed" not in status
        assert "cannot be reached" not in status, "said once"
        await pilot.press("u")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("The database cannot be reached: ") for m in messages)


async def test_no_revision_files_says_where_it_looked(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"), revisions=())
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        status = " ".join(status_text(app).split())
        assert "no revisions found (searched " in status
        assert str(folder / "migrations") in status


SHARED_LABEL = (  # one label below the branch point: both heads are on branch "main"
    Rev("a1a1a1a1a1a1", None, "base", "t_base", branch_labels=("main",)),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "one side", "t_one"),
    Rev("c3c3c3c3c3c3", "a1a1a1a1a1a1", "other side", "t_other"),
)


async def test_labelled_heads_are_not_told_to_merge(tmp_path: Path) -> None:
    folder = write_expand_contract(tmp_path / "p", sqlite_url(tmp_path / "db.sqlite"), 4)
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        status = " ".join(status_text(app).split())
        assert ("2 heads (expand, contract)" in status
                or "2 heads (contract, expand)" in status), status
        assert "merge" not in status and "⚠" not in status


@pytest.mark.parametrize("revisions", [TWO_HEADS, SHARED_LABEL], ids=["one-label", "shared"])
async def test_accidental_heads_still_warn(tmp_path: Path, revisions: tuple[Rev, ...]) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"),
                           revisions=revisions)
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        status = " ".join(status_text(app).split())
        assert "⚠ 2 heads: merge them with m" in status, status


async def test_revisions_without_a_message_show_none(tmp_path: Path) -> None:
    # Revisions written without -m: their docstring's first paragraph is the template's
    # "Revision ID: …" lines, not a message (Alembic's history prints those lines).
    folder = write_expand_contract(tmp_path / "p", sqlite_url(tmp_path / "db.sqlite"), 4,
                                   every_depends=4)
    _alembic_upgrade(folder, expand_contract(4)[1].revision)  # e0: e1 and c0 can run next
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        second_expand = expand_contract(4)[2].revision
        assert "Revision ID" not in "\n".join(graph_lines(app))
        assert f"{second_expand[:12]} [expand]" in row_of(app, second_expand)  # no words
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ChooseScreen)
        options = app.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(s.startswith(f"{second_expand[:12]}  [expand]  (no message)\n→ head")
                   for s in shown), shown
