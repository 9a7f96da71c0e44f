"""`n` writes the revision file the user reviewed, or nothing: the operations are
checked against the preview's (``body_digest``) as the file is about to be written, after
env.py's own process_revision_directives, where the preview looks at them too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autogen_helpers import (
    edit_models,
    open_project,
    sample_matches_models,  # noqa: F401  (autouse fixture)
    upgrade,
    upgrade_source,
)
from test_pending_screen import open_pending
from textual.widgets import Input
from ui_helpers import make_app, settle, wait_for

from migtui.core.actions.project import Project
from migtui.core.autogen.choices import Choices
from migtui.core.autogen.compare import CHANGED_SINCE_REVIEW
from migtui.core.autogen.diff import AutogenDiff, DiffState, compute_diff, write_revision
from migtui.screens.dialogs import PromptScreen
from migtui.screens.pending import PendingScreen

SCORE = ("    body: str\n", "    body: str\n    score: float | None = None\n")
SCORE_AND_RATING = ("    body: str\n", "    body: str\n    score: float | None = None\n"
                    "    rating: int | None = None\n")
RATING_TOO = ("    score: float | None = None\n",
              "    score: float | None = None\n    rating: int | None = None\n")


def _versions(project: Path) -> set[str]:
    return {p.name for p in (project / "migrations" / "versions").glob("*.py")}


def _rating_rejected(project_folder: Path) -> tuple[Project, AutogenDiff, Choices, AutogenDiff]:
    """score and rating added to the models: the comparison as it is, the choices that
    reject rating, and the comparison with them."""
    edit_models(project_folder, *SCORE_AND_RATING)
    project = open_project(project_folder)
    plain = compute_diff(project)
    [rating] = [op for op in plain.operations if op.name == "rating"]
    choices = Choices().toggled("rejected", rating.key)
    return project, plain, choices, compute_diff(project, choices=choices)


def test_the_reviewed_operations_are_written(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, *SCORE)
    project = open_project(sample_sqlite)
    diff = compute_diff(project)
    assert diff.state is DiffState.DIFFERS and diff.body_digest
    result = write_revision(project, "score", reviewed=diff.body_digest)
    assert result.ok, result.error_details
    assert result.new_revision and "'score'" in upgrade_source(sample_sqlite,
                                                               result.new_revision)


def test_models_changed_since_the_review_write_nothing(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, *SCORE)
    project = open_project(sample_sqlite)
    diff = compute_diff(project)
    before = _versions(sample_sqlite)
    edit_models(sample_sqlite, *RATING_TOO)
    result = write_revision(project, "score", reviewed=diff.body_digest)
    assert not result.ok and result.plan_changed
    assert result.error == CHANGED_SINCE_REVIEW
    assert _versions(sample_sqlite) == before, "no revision file written"
    assert open_project(sample_sqlite).graph().heads == project.graph().heads


def test_choices_are_part_of_what_was_reviewed(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    project, plain, choices, chosen = _rating_rejected(sample_sqlite)
    assert chosen.body_digest != plain.body_digest
    # The file reviewed without the rejection is not the one these choices write ...
    refused = write_revision(project, "score", choices=choices, reviewed=plain.body_digest)
    assert not refused.ok and refused.plan_changed
    # ... the one reviewed with it is.
    result = write_revision(project, "score", choices=choices, reviewed=chosen.body_digest)
    assert result.ok, result.error_details
    body = upgrade_source(sample_sqlite, result.new_revision or "")
    assert "'score'" in body and "'rating'" not in body


def test_choices_are_applied_after_env_pys_own_hook(sample_sqlite: Path) -> None:
    """As in the preview: env.py's process_revision_directives sees every operation
    autogenerate found, the user's rejections applied after it."""
    upgrade(sample_sqlite)
    seen = sample_sqlite / "seen.txt"
    env = sample_sqlite / "migrations" / "env.py"
    hook = (
        "def _count(context, revision, directives):\n"
        "    ops = [o for op in directives[0].upgrade_ops.ops for o in getattr(op, 'ops', [op])]\n"
        f"    with open({str(seen)!r}, 'a') as f:\n"
        "        f.write(f'{len(ops)}\\n')\n\n\n"
    )
    text = env.read_text()
    text = text.replace("def run_migrations_offline", hook + "def run_migrations_offline", 1)
    text = text.replace("            target_metadata=target_metadata,\n",
                        "            target_metadata=target_metadata,\n"
                        "            process_revision_directives=_count,\n", 1)
    env.write_text(text)
    project, _plain, choices, chosen = _rating_rejected(sample_sqlite)
    result = write_revision(project, "score", choices=choices, reviewed=chosen.body_digest)
    assert result.ok, result.error_details
    # (the two comparisons and the write each ran env.py's hook on the same operations)
    assert seen.read_text().split() == ["2", "2", "2"]
    assert "'rating'" not in upgrade_source(sample_sqlite, result.new_revision or "")


async def test_a_model_saved_while_the_message_is_typed_is_not_written(
        sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, *SCORE)
    before = _versions(sample_sqlite)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        assert isinstance(app.screen, PendingScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        # Saved while the prompt is open (the list behind it may show it, unseen).
        edit_models(sample_sqlite, *RATING_TOO)
        app.screen.query_one(Input).value = "score"
        await pilot.press("enter")
        await settle(pilot)
        await wait_for(pilot, lambda: app.state.last_result is not None)
        result = app.state.last_result
        assert result is not None and not result.ok
        assert "changed after you reviewed" in result.error
        assert _versions(sample_sqlite) == before
        assert isinstance(app.screen, PendingScreen), "still on the list, to review again"


def test_a_database_moved_by_another_process_after_the_review_writes_nothing(
        sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, *SCORE)
    project = open_project(sample_sqlite)
    diff = compute_diff(project)
    before = _versions(sample_sqlite)
    alembic = Path(sys.executable).with_name("alembic")
    subprocess.run([str(alembic), "downgrade", "-1"], cwd=sample_sqlite, check=True,
                   capture_output=True)
    result = write_revision(project, "score", reviewed=diff.body_digest)
    assert not result.ok
    assert _versions(sample_sqlite) == before, "no revision file written"
    heads = open_project(sample_sqlite).snapshot().database.current_heads
    assert heads == ("8c2e47d1a5f0",), "the database as the other process left it"
