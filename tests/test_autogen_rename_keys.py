"""Renames that carry indexes and foreign keys, and the written file as Alembic writes it,
on SQLite (batch mode), PostgreSQL and MariaDB with rows in the tables."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from autogen_helpers import (
    change_models,
    edit_models,
    full_schema,
    open_project,
    revision_path,
    ruff_findings,
    run_sql,
    sample_matches_models,  # noqa: F401  (autouse fixture)
    upgrade,
    upgrade_source,
)
from conftest import database_url
from projects import data_engine
from test_autogen_edit import downgrade_one, downgrade_source, fill_users

from migtui.core.autogen.choices import Choices
from migtui.core.autogen.diff import AutogenDiff, DiffState, compute_diff, write_revision

EMAIL = "    email: str = Field(index=True, unique=True)\n"
MAIL = "    mail: str = Field(index=True, unique=True)\n"
USER_ID = '    user_id: int = Field(foreign_key="user.id")\n'
AUTHOR_ID = '    author_id: int = Field(foreign_key="user.id")\n'


def fill_posts(url: str, count: int = 1000) -> None:
    """``count`` posts, post i by user i+1 (fill_users first)."""
    values = ", ".join(f"('t{i}', 'b{i}', {i + 1})" for i in range(count))
    run_sql(url, f"insert into post (title, body, user_id) values {values}")


def values(url: str, table: str, column: str, order_by: str = "id") -> list[object]:
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            target = sa.table(table, *(sa.column(n) for n in dict.fromkeys([order_by, column])))
            return list(conn.execute(sa.select(target.c[column]).order_by(target.c[order_by]))
                        .scalars())
    finally:
        engine.dispose()


def joined(url: str, post_column: str, users: str, key: str = "id") -> int:
    """Posts whose ``post_column`` finds its row (by ``key``) in the ``users`` table."""
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            post = sa.table("post", sa.column(post_column))
            user = sa.table(users, sa.column(key))
            return int(conn.execute(sa.select(sa.func.count()).select_from(
                post.join(user, post.c[post_column] == user.c[key]))).scalar_one())
    finally:
        engine.dispose()


def refused_post(url: str, **row: object) -> bool:
    """Whether the database refuses a post with these values (its keys are enforced)."""
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
            row = {"title": "x", "body": "y", **row}
            post = sa.table("post", *(sa.column(name) for name in row))
            try:
                conn.execute(post.insert().values(**row))
            except sa.exc.IntegrityError:
                return True
            conn.rollback()
            return False
    finally:
        engine.dispose()


def refused_orphan(url: str, post_column: str) -> bool:
    """Whether a post by a user who does not exist is refused (the foreign key works)."""
    return refused_post(url, **{post_column: 99999})


def write_accepting(project: Path, message: str) -> tuple[AutogenDiff, str]:
    """Compare, accept every rename offered, write: the diff and the new revision's id."""
    diff = compute_diff(open_project(project))
    assert diff.renames, (diff.state, diff.error, [op.kind for op in diff.operations])
    choices = Choices(renames=frozenset(r.key for r in diff.renames))
    result = write_revision(open_project(project), message, choices=choices)
    assert result.ok, result.error_details
    assert result.new_revision is not None
    return diff, result.new_revision


def matches(project: Path) -> None:
    """A fresh autogenerate comparison finds nothing left to write."""
    left = compute_diff(open_project(project))
    assert left.state is DiffState.MATCHES, [(op.kind, op.table, op.name)
                                             for op in left.operations] or left.error
    assert left.operations == ()


def test_renaming_an_indexed_column_renames_its_index(sample_project: Path) -> None:
    """user.email (unique index ix_user_email) becomes mail: the index is ix_user_mail."""
    url = database_url(sample_project)
    upgrade(sample_project)
    fill_users(url)
    before = full_schema(url)
    edit_models(sample_project, EMAIL, MAIL)
    diff, new = write_accepting(sample_project, "email is mail")
    [rename] = diff.renames
    assert (rename.old, rename.new, rename.values) == ("email", "mail", 1000)
    up = upgrade_source(sample_project, new)
    assert "new_column_name='mail'" in up and "drop_column" not in up
    assert up.index("'ix_user_email'") < up.index("new_column_name") < up.index("'ix_user_mail'")
    assert ruff_findings(revision_path(sample_project, new)) == ""

    upgrade(sample_project)
    assert values(url, "user", "mail") == [f"u{i}@x" for i in range(1000)]
    after = full_schema(url)["user"]
    assert ("ix_user_mail", ("mail",), True) in after["indexes"]
    assert not any(name == "ix_user_email" for name, _, _ in after["indexes"])
    matches(sample_project)
    downgrade_one(sample_project)
    assert values(url, "user", "email") == [f"u{i}@x" for i in range(1000)]
    assert full_schema(url) == before, "the downgrade undoes exactly the upgrade"


def test_renaming_a_foreign_key_column_keeps_the_key(sample_project: Path) -> None:
    """post.user_id (a foreign key to user.id) becomes author_id; the key stays, works,
    and the rename alone is written (an unnamed key could not be dropped back)."""
    url = database_url(sample_project)
    upgrade(sample_project)
    fill_users(url)
    fill_posts(url)
    before = full_schema(url)
    edit_models(sample_project, USER_ID, AUTHOR_ID)
    diff, new = write_accepting(sample_project, "user_id is author_id")
    [rename] = diff.renames
    kinds = {op.key: op.kind for op in diff.operations}
    assert sorted(kinds[key] for key in rename.carried) == ["add foreign key",
                                                           "drop foreign key"]
    up, down = upgrade_source(sample_project, new), downgrade_source(sample_project, new)
    assert "new_column_name='author_id'" in up and "new_column_name='user_id'" in down
    assert "foreign" not in up + down and "drop_constraint" not in up + down
    assert ruff_findings(revision_path(sample_project, new)) == ""

    upgrade(sample_project)
    assert values(url, "post", "author_id") == list(range(1, 1001))
    [key] = full_schema(url)["post"]["foreign keys"]
    assert key[1:4] == (("author_id",), "user", ("id",))
    assert joined(url, "author_id", "user") == 1000
    assert refused_orphan(url, "author_id"), "the foreign key is still enforced"
    matches(sample_project)
    downgrade_one(sample_project)
    assert values(url, "post", "user_id") == list(range(1, 1001))
    assert full_schema(url) == before, "the downgrade undoes exactly the upgrade"


USER_PK = "    id: int | None = Field(default=None, primary_key=True)\n    name"


def test_renaming_a_column_other_tables_point_at(sample_project: Path) -> None:
    """user.id (post.user_id points at it) becomes uid: post's key follows the column
    (on SQLite the rename runs as ALTER TABLE … RENAME COLUMN, outside the batch copy,
    which rewrites post's definition; on MySQL AUTO_INCREMENT stays)."""
    url = database_url(sample_project)
    upgrade(sample_project)
    fill_users(url)
    fill_posts(url)
    before = full_schema(url)
    edit_models(sample_project, USER_PK, USER_PK.replace("    id:", "    uid:"))
    edit_models(sample_project, 'foreign_key="user.id"', 'foreign_key="user.uid"')
    diff, new = write_accepting(sample_project, "id is uid")
    [rename] = diff.renames
    assert (rename.table, rename.old, rename.new, len(rename.carried)) == ("user", "id",
                                                                            "uid", 2)
    up = upgrade_source(sample_project, new)
    assert "constraint" not in up and "foreign" not in up
    if url.startswith("sqlite"):
        assert "op.alter_column('user', 'id'," in up and "batch_alter_table" not in up
    assert ruff_findings(revision_path(sample_project, new)) == ""

    upgrade(sample_project)
    [key] = full_schema(url)["post"]["foreign keys"]
    assert key[1:4] == (("user_id",), "user", ("uid",))
    assert joined(url, "user_id", "user", key="uid") == 1000
    assert refused_orphan(url, "user_id"), "the foreign key is still enforced"
    run_sql(url, "insert into \"user\" (name, email) values ('new', 'new@x')")
    assert values(url, "user", "uid", order_by="uid")[-2:] == [1000, 1001], "still numbered"
    matches(sample_project)
    run_sql(url, "delete from \"user\" where name = 'new'")
    downgrade_one(sample_project)
    assert full_schema(url) == before, "the downgrade undoes exactly the upgrade"
    assert joined(url, "user_id", "user") == 1000


CODE = ('    code: str | None = Field(default=None, max_length=20, '
        'sa_column_kwargs={"unique": True})\n')


def test_renaming_a_unique_column_keeps_its_constraint(sample_project: Path) -> None:
    """post.code (an unnamed UNIQUE in the model) becomes ref: the constraint stays and
    is enforced, and the rename alone is written (on MySQL its index is renamed too)."""
    url = database_url(sample_project)
    upgrade(sample_project)
    edit_models(sample_project, "    body: str\n", "    body: str\n" + CODE)
    added = write_revision(open_project(sample_project), "post code")
    assert added.ok and added.new_revision is not None, added.error_details
    if url.startswith("sqlite"):  # Alembic writes the key unnamed, which batch mode
        path = revision_path(sample_project, added.new_revision)  # cannot create: name it
        path.write_text(path.read_text().replace("create_unique_constraint(None,",
                                                 "create_unique_constraint('uq_post_code',"))
    upgrade(sample_project)
    fill_users(url)
    fill_posts(url)
    run_sql(url, "update post set code = " + (
        "concat('c', id)" if "mysql" in url else "'c' || id"))
    before = full_schema(url)
    edit_models(sample_project, "    code: str", "    ref: str")
    diff, new = write_accepting(sample_project, "code is ref")
    [rename] = diff.renames
    assert len(rename.carried) == 2, [op.kind for op in diff.operations]
    up, down = upgrade_source(sample_project, new), downgrade_source(sample_project, new)
    assert "new_column_name='ref'" in up and "new_column_name='code'" in down
    assert "constraint" not in up + down and "drop_index" not in up + down
    assert ruff_findings(revision_path(sample_project, new)) == ""

    upgrade(sample_project)
    assert values(url, "post", "ref") == [f"c{i}" for i in range(1, 1001)]
    assert refused_post(url, user_id=1, ref="c7"), "the values are still unique"
    if "mysql" in url:  # MySQL named the unique index after the column: renamed with it
        assert ("ref", ("ref",), True) in full_schema(url)["post"]["indexes"]
    matches(sample_project)
    downgrade_one(sample_project)
    assert values(url, "post", "code") == [f"c{i}" for i in range(1, 1001)]
    assert full_schema(url) == before, "the downgrade undoes exactly the upgrade"


ACCOUNT = 'class User(SQLModel, table=True):\n    __tablename__ = "account"\n'


def test_renaming_a_referenced_table_keeps_the_keys_to_it(sample_project: Path) -> None:
    """user becomes account while post.user_id points at it: the key follows the table
    (PostgreSQL and MariaDB by object, SQLite by rewriting post's definition)."""
    url = database_url(sample_project)
    upgrade(sample_project)
    fill_users(url)
    fill_posts(url)
    before = full_schema(url)
    edit_models(sample_project, 'foreign_key="user.id"', 'foreign_key="account.id"')
    edit_models(sample_project, "class User(SQLModel, table=True):\n", ACCOUNT)
    diff, new = write_accepting(sample_project, "user is account")
    [rename] = diff.renames
    assert (rename.what, rename.old, rename.new, rename.rows) == ("table", "user", "account",
                                                                  1000)
    assert len(rename.carried) == 2, "post's key to user is kept, not dropped and re-added"
    up = upgrade_source(sample_project, new)
    assert "op.rename_table('user', 'account')" in up
    assert "drop_table" not in up and "foreign" not in up and "drop_constraint" not in up
    assert ruff_findings(revision_path(sample_project, new)) == ""

    upgrade(sample_project)
    schema = full_schema(url)
    assert "user" not in schema
    [key] = schema["post"]["foreign keys"]
    assert key[1:4] == (("user_id",), "account", ("id",))
    assert {name for name, _, _ in schema["account"]["indexes"]} >= {"ix_account_email",
                                                                      "ix_account_name"}
    assert values(url, "account", "email") == [f"u{i}@x" for i in range(1000)]
    assert joined(url, "user_id", "account") == 1000
    assert refused_orphan(url, "user_id"), "the foreign key is still enforced"
    matches(sample_project)
    downgrade_one(sample_project)
    assert full_schema(url) == before, "the downgrade undoes exactly the upgrade"
    assert joined(url, "user_id", "user") == 1000


def _body(text: str, function: str) -> list[str]:
    part = text.split(f"def {function}()", 1)[1]
    return part.split("def downgrade()", 1)[0].splitlines()


def test_the_written_file_is_autogenerates_without_the_rejected(sample_project: Path) -> None:
    """The file with two operations rejected is, line for line, the one plain
    ``alembic revision --autogenerate`` writes without those operations' lines; both
    pass ruff with its default rules."""
    upgrade(sample_project)
    change_models(sample_project)
    plain = write_revision(open_project(sample_project), "everything")
    assert plain.ok and plain.new_revision is not None, plain.error_details
    path = revision_path(sample_project, plain.new_revision)
    alembic_text = path.read_text()
    assert ruff_findings(path) == ""
    path.unlink()

    diff = compute_diff(open_project(sample_project))
    keys = {op.key for op in diff.operations if op.kind in ("add index", "drop column")}
    assert len(keys) == 2, [op.kind for op in diff.operations]
    result = write_revision(open_project(sample_project), "everything",
                            choices=Choices(rejected=frozenset(keys)))
    assert result.ok and result.new_revision is not None, result.error_details
    path = revision_path(sample_project, result.new_revision)
    ours = path.read_text()
    assert ruff_findings(path) == ""

    def names_rejected(line: str) -> bool:  # the rejected ops: ix_post_title and user.ssn
        return "ix_post_title" in line or "'ssn'" in line
    assert _body(ours, "upgrade") == [
        line for line in _body(alembic_text, "upgrade") if not names_rejected(line)]
    assert _body(ours, "downgrade") == [
        line for line in _body(alembic_text, "downgrade") if not names_rejected(line)]
    assert sum(names_rejected(line) for line in _body(alembic_text, "upgrade")) == 2


SCORE = ('    score: int = Field(default=0, sa_column_kwargs={"server_default": "7", '
         '"comment": "points given"})\n')


def test_renaming_a_column_keeps_its_default_and_comment(sample_project: Path) -> None:
    """post.score (server default 7, a comment) becomes points: both stay (MySQL restates
    the whole column in CHANGE COLUMN, so the rename must name them)."""
    url = database_url(sample_project)
    upgrade(sample_project)
    edit_models(sample_project, "    body: str\n", "    body: str\n" + SCORE)
    added = write_revision(open_project(sample_project), "post score")
    assert added.ok, added.error_details
    upgrade(sample_project)
    fill_users(url, 3)
    run_sql(url, "insert into post (title, body, user_id) values ('t', 'b', 1)")
    before = full_schema(url)
    edit_models(sample_project, "    score: int", "    points: int")
    _, new = write_accepting(sample_project, "score is points")
    assert ruff_findings(revision_path(sample_project, new)) == ""
    upgrade(sample_project)
    [points] = [c for c in full_schema(url)["post"]["columns"] if c[0] == "points"]
    assert "7" in points[3], points
    run_sql(url, "insert into post (title, body, user_id) values ('u', 'b', 1)")
    assert values(url, "post", "points") == [7, 7]
    if not url.startswith("sqlite"):  # SQLite keeps no comments
        engine = data_engine(url)
        try:
            comments = {c["name"]: c.get("comment") for c in sa.inspect(engine).get_columns("post")}
        finally:
            engine.dispose()
        assert comments["points"] == "points given"
    matches(sample_project)
    run_sql(url, "delete from post where title = 'u'")
    downgrade_one(sample_project)
    assert full_schema(url) == before, "the downgrade undoes exactly the upgrade"
