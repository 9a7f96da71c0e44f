"""The project the trust tests share: t1 applied (r1), and a pending r2 that adds a
column to t1 (the step a lock on t1 holds up)."""

from __future__ import annotations

from pathlib import Path

from projects import Rev, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project

R1, R2 = "r00000000001", "r00000000002"
ADD_EXTRA = Rev(R2, R1, "add t1.extra", date="2026-01-02 10:00:00.000000",
                upgrade='op.add_column("t1", sa.Column("extra", sa.Integer()))',
                downgrade='op.drop_column("t1", "extra")').source()


def project_at_r1(tmp_path: Path, url: str) -> Path:
    """The project folder, its database upgraded to r1."""
    folder = write_project(tmp_path / "proj", url=url,
                           revisions=(Rev(R1, None, "create t1", "t1"),))
    (folder / "migrations/versions" / f"{R2}_add_extra.py").write_text(ADD_EXTRA)
    assert Project.open(ProjectOptions(cwd=str(folder))).upgrade(R1).ok
    return folder
