"""The line of a group of tenants says where they are: one URL when they share it."""

from __future__ import annotations

from migtui.core.environments.config import Environment
from migtui.core.environments.fleet import EnvironmentRead
from migtui.core.models import (
    DatabaseState,
    DatabaseStatus,
    ProjectInfo,
    RevisionGraph,
    Snapshot,
)
from migtui.screens.environments_rows import group_row


def _read(env: Environment, url: str) -> EnvironmentRead:
    status = DatabaseStatus(DatabaseState.OK, url=url, dialect="sqlite")
    snapshot = Snapshot(ProjectInfo("alembic.ini", "alembic", "migrations"),
                        RevisionGraph((), (), ()), status)
    return EnvironmentRead(env, snapshot, read_at=0.0, seconds=0.1)


def _url_cell(urls: dict[str, str]) -> str:
    envs = [Environment(f"tenants:{n}", "migtui.toml", x_args=(f"tenant={n}",),
                        group="tenants", schema=n) for n in ("acme", "globex")]
    reads = {e.name: _read(e, urls[e.schema]) for e in envs if e.schema in urls}
    return str(group_row("tenants", envs, reads, {}, collapsed=True).cells[-1])


def test_tenants_with_a_database_each_are_not_shown_at_the_first_ones() -> None:
    assert _url_cell({"acme": "sqlite:///acme.db", "globex": "sqlite:///globex.db"}) \
        == "2 databases"


def test_tenants_sharing_a_database_show_its_url() -> None:
    assert _url_cell({"acme": "postgresql://app:***@db/x",
                      "globex": "postgresql://app:***@db/x"}) == "postgresql://app:***@db/x"


def test_tenants_not_read_yet_show_nothing_they_do_not_say() -> None:
    assert _url_cell({}) == ""
    assert _url_cell({"acme": "sqlite:///acme.db"}) == ""  # (globex's is not known yet)
