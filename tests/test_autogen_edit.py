"""Editing the diff before writing it: rejected operations, renames, on real databases."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from autogen_helpers import (
    change_models,
    edit_models,
    full_schema,
    open_project,
    run_sql,
    sample_matches_models,  # noqa: F401  (autouse fixture)
    upgrade,
    upgrade_source,
)
from conftest import database_url

from migtui.core.autogen.choices import Choices
from migtui.core.autogen.diff import AutogenDiff, compute_diff, write_revision

SSN = "    ssn: str | None = Field(default=None, max_length=11)\n"
TAX_ID = "    tax_id: str | None = Field(default=None, max_length=11)\n"


def fill_users(url: str, count: int = 1000) -> None:
    values = ", ".join(f"('u{i}', 'u{i}@x', 'ssn-{i}')" for i in range(count))
    run_sql(url, f'insert into "user" (name, email, ssn) values {values}')


def column_values(url: str, column: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            user = sa.table("user", sa.column("id"), sa.column(column))
            return [row[0] for row in conn.execute(
                sa.select(user.c[column]).order_by(user.c.id))]
    finally:
        engine.dispose()


def schema_of(url: str) -> dict[str, list[tuple[str, str, bool]]]:
    """Every table's columns (name, type, nullable) and index names, as the database has them."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            return {
                table: [(c["name"], str(c["type"]), bool(c["nullable"]))
                        for c in inspector.get_columns(table)]
                + [(i["name"] or "", "index", False) for i in sorted(
                    inspector.get_indexes(table), key=lambda i: i["name"] or "")]
                for table in sorted(inspector.get_table_names())
            }
    finally:
        engine.dispose()


def unordered(schema: dict[str, list[tuple[str, str, bool]]]) -> dict[str, set[Any]]:
    return {table: set(columns) for table, columns in schema.items()}


def downgrade_source(project: Path, revision: str) -> str:
    [path] = (project / "migrations" / "versions").glob(f"{revision}_*.py")
    return path.read_text().split("def downgrade()", 1)[1]


def downgrade_one(project: Path) -> None:
    importlib.invalidate_caches()
    result = open_project(project).downgrade("-1")
    assert result.ok, result.error_details


def renamed_ssn(project: Path) -> AutogenDiff:
    edit_models(project, SSN, TAX_ID)
    return compute_diff(open_project(project))


def test_rename_accepted_keeps_the_values(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    fill_users(url)
    before = full_schema(url)
    diff = renamed_ssn(sample_project)
    assert {op.kind for op in diff.operations} == {"add column", "drop column"}
    [rename] = diff.renames
    assert (rename.old, rename.new, rename.table) == ("ssn", "tax_id", "user")
    assert rename.values == 1000 and rename.rows == 1000
    assert rename.old_type == rename.new_type == "VARCHAR(11)"
    assert rename.old_position == rename.new_position == 4
    assert "new_column_name='tax_id'" in rename.python

    choices = Choices(renames=frozenset({rename.key}))
    preview = compute_diff(open_project(sample_project), choices=choices)
    assert preview.choices == choices
    assert "new_column_name='tax_id'" in preview.revision_file
    assert "drop_column" not in preview.revision_file

    result = write_revision(open_project(sample_project), "rename ssn", choices=choices)
    assert result.ok, result.error_details
    new = result.new_revision
    assert new is not None
    up, down = upgrade_source(sample_project, new), downgrade_source(sample_project, new)
    assert "alter_column(" in up and "'ssn'," in up and "new_column_name='tax_id'" in up
    assert "alter_column(" in down and "'tax_id'," in down and "new_column_name='ssn'" in down
    assert "drop_column" not in up + down and "add_column" not in up + down
    assert ("batch_alter_table('user'" in up) == url.startswith("sqlite"), "as env.py says"

    upgrade(sample_project)
    assert column_values(url, "tax_id") == [f"ssn-{i}" for i in range(1000)]
    assert "ssn" not in {c[0] for c in schema_of(url)["user"]}
    assert compute_diff(open_project(sample_project)).operations == ()
    downgrade_one(sample_project)
    assert column_values(url, "ssn") == [f"ssn-{i}" for i in range(1000)]
    assert full_schema(url) == before, "the downgrade undoes exactly the upgrade"


def test_rejected_operation_is_absent_and_the_rest_as_autogenerate_writes(
        sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    before = schema_of(url)
    change_models(sample_project)
    diff = compute_diff(open_project(sample_project))
    [index] = [op for op in diff.operations if op.kind == "add index"]
    [tag] = [op for op in diff.operations if op.kind == "add table"]
    choices = Choices(rejected=frozenset({index.key, tag.key}))
    preview = compute_diff(open_project(sample_project), choices=choices)
    result = write_revision(open_project(sample_project), "some of it", choices=choices)
    assert result.ok, result.error_details
    assert result.new_revision is not None
    written = (sample_project / "migrations" / "versions").glob(f"{result.new_revision}_*.py")
    text = next(written).read_text()
    body = text.split("def upgrade()", 1)[1]
    assert "ix_post_title" not in body and "'tag'" not in body
    lines = {line.strip() for line in body.splitlines()}
    for op in diff.operations:
        if op.key in choices.rejected:
            continue
        for line in op.python.splitlines():  # each accepted op, rendered by autogenerate
            if not line.strip().startswith("with op.batch_alter_table"):
                assert line.strip() in lines, (op.kind, line)
    preview_body = preview.revision_file.split("def upgrade()", 1)[1]
    assert preview_body == body, "f shows the file as it is written"

    columns_before = unordered(before)
    upgrade(sample_project)
    after = schema_of(url)
    assert "tag" not in after and "nickname" in {c[0] for c in after["user"]}
    left = compute_diff(open_project(sample_project))
    assert {op.kind for op in left.operations} == {"add table", "add index"}
    downgrade_one(sample_project)
    # (a dropped column comes back at the end of its table: add_column appends)
    assert unordered(schema_of(url)) == columns_before, "the downgrade undoes exactly the upgrade"


def test_rename_rejected_writes_drop_and_add(sample_sqlite: Path) -> None:
    url = database_url(sample_sqlite)
    upgrade(sample_sqlite)
    fill_users(url, 3)
    diff = renamed_ssn(sample_sqlite)
    assert diff.renames, "offered as a rename"
    result = write_revision(open_project(sample_sqlite), "drop and add")
    assert result.ok and result.new_revision is not None
    up = upgrade_source(sample_sqlite, result.new_revision)
    assert "drop_column('ssn')" in up and "add_column(sa.Column('tax_id'" in up


def test_table_rename(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    before = full_schema(url)
    run_sql(url, "insert into \"user\" (name, email) values ('a', 'a@x')",
            "insert into post (title, body, user_id) values ('t', 'b', 1)")
    edit_models(sample_project, "class Post(SQLModel, table=True):",
                "class Article(SQLModel, table=True):")
    diff = compute_diff(open_project(sample_project))
    [rename] = [r for r in diff.renames if r.what == "table"]
    assert (rename.old, rename.new, rename.rows) == ("post", "article", 1)
    choices = Choices(renames=frozenset({rename.key}))
    result = write_revision(open_project(sample_project), "article", choices=choices)
    assert result.ok and result.new_revision is not None
    up = upgrade_source(sample_project, result.new_revision)
    assert "op.rename_table('post', 'article')" in up and "drop_table" not in up
    upgrade(sample_project)
    assert "article" in schema_of(url) and "post" not in schema_of(url)
    downgrade_one(sample_project)
    assert full_schema(url) == before


SSN_INT = "    ssn: int | None = Field(default=None)\n"


def test_a_type_change_says_what_does_not_fit_and_offers_the_using_cast(
    sample_pg: Path,
) -> None:
    """VARCHAR -> INTEGER on PostgreSQL: the values that do not fit are counted, the
    USING cast is offered, and with it the written revision upgrades the live data."""
    url = database_url(sample_pg)
    upgrade(sample_pg)
    run_sql(url, "insert into \"user\" (name, email, ssn) values ('a', 'a@x', '12'), "
                 "('b', 'b@x', 'no number')")
    edit_models(sample_pg, SSN, SSN_INT)
    diff = compute_diff(open_project(sample_pg))
    assert diff.operations, (diff.state, diff.error)
    kinds = [(op.kind, op.name, op.cast, op.fit) for op in diff.operations]
    found = [op for op in diff.operations if op.cast or "type" in op.kind]
    assert len(found) == 1, kinds
    [change] = found
    assert change.cast and "ssn" in change.cast
    assert "1 value of user.ssn cannot become INTEGER: not a whole number" in change.fit

    run_sql(url, "update \"user\" set ssn = '7' where name = 'b'")
    diff = compute_diff(open_project(sample_pg))
    [change] = [op for op in diff.operations if op.cast]
    assert "cannot become" not in change.fit, change.fit  # every value fits now
    assert "without a USING expression" in change.fit
    choices = Choices(casts=frozenset({change.key}))
    result = write_revision(open_project(sample_pg), "ssn as a number", choices=choices)
    assert result.ok, result.error_details
    assert result.new_revision is not None
    assert "postgresql_using=" in upgrade_source(sample_pg, result.new_revision)
    upgrade(sample_pg)
    assert sorted(column_values(url, "ssn")) == [7, 12]  # type: ignore[comparison-overlap]
    types = {c[0]: c[1] for c in schema_of(url)["user"]}
    assert types["ssn"].upper().startswith("INTEGER"), types
