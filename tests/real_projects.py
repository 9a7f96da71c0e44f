"""Generated projects shaped like the open-source ones of issue #20 (none is vendored).

* ``expand_contract``: two labelled branches ``expand`` and ``contract`` from one base,
  every contract revision depending on the expand revision of its release, most
  messages empty (as in projects that split online and offline migrations).
* ``ENV_FLASK_STYLE``: an env.py in the Flask-Migrate manner: ``sqlalchemy.url`` is empty
  and a ``current_app``-like settings object computes the URL from its config.

``python -m tests.real_projects DEST KIND [URL]`` writes one for trying by hand, KIND
one of ``expand`` (expand/contract), ``big`` (300 revisions with merges and two branch
points), ``flask`` (the Flask-Migrate style env.py over the expand/contract history),
``async`` (the async env.py template, aiosqlite) and ``threaded`` (an env.py that runs
the migrations on a thread of its own), both over the expand/contract history.
"""

from __future__ import annotations

import sys
from pathlib import Path

from projectkit.genproject import generate_project
from projectkit.templates import ENV_ASYNC, ENV_THREADED
from tests.projects import Rev, sqlite_url, write_project

# The URL variable that ENV_FLASK_STYLE's settings object reads (its "config").
FLASK_URL_VARIABLE = "MIGTUI_TEST_FLASK_DB_URL"

ENV_FLASK_STYLE = f'''\
import logging
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")


class _Config(dict):
    """Like Flask's app.config: the URL is computed from settings."""


class _App:
    def __init__(self) -> None:
        self.config = _Config(SQLALCHEMY_DATABASE_URI=os.environ[{FLASK_URL_VARIABLE!r}])
        self.extensions = {{"migrate": self}}

    @property
    def engine(self):
        return create_engine(self.config["SQLALCHEMY_DATABASE_URI"])


current_app = _App()


def get_engine_url():
    return str(current_app.extensions["migrate"].engine.url).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())
target_metadata = None


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    connectable = current_app.extensions["migrate"].engine
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          process_revision_directives=process_revision_directives)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''


def _rid(kind: str, index: int) -> str:
    return f"{kind}{index:011x}"


def expand_contract(releases: int, *, every_depends: int = 1) -> list[Rev]:
    """A base, then ``releases`` expand and contract revisions on two labelled branches.

    Contract revision ``i`` depends on expand revision ``i`` when ``i + 1`` is a multiple
    of ``every_depends`` (expand before contract, as in online/offline splits). The
    messages of most revisions are empty; each revision creates one table.
    """
    base = Rev(_rid("a", 0), None, "initial", "t_initial")
    revs = [base]
    for kind, label in (("e", "expand"), ("c", "contract")):
        down = base.revision
        for i in range(releases):
            rev = _rid(kind, i)
            depends = (_rid("e", i),) if kind == "c" and (i + 1) % every_depends == 0 else ()
            revs.append(Rev(
                rev, down, f"{label} {i}" if i % 4 == 0 else "", f"t_{kind}{i}",
                branch_labels=(label,) if i == 0 else (), depends_on=depends,
                date=f"2026-01-{1 + i % 28:02d} 10:00:00.000000"))
            down = rev
    return revs


def write_expand_contract(dest: Path, url: str, releases: int = 12,
                          env_py: str | None = None, every_depends: int = 1) -> Path:
    """An expand/contract project (see :func:`expand_contract`) at ``dest``."""
    revs = expand_contract(releases, every_depends=every_depends)
    if env_py is None:
        return write_project(dest, url=url, revisions=revs)
    return write_project(dest, env_py, url=url, revisions=revs)


def main(argv: list[str]) -> int:
    dest, kind = Path(argv[0]), argv[1]
    url = argv[2] if len(argv) > 2 else sqlite_url(dest / "db.sqlite")
    if kind == "expand":
        write_expand_contract(dest, url, releases=20)
    elif kind == "flask":
        write_expand_contract(dest, "", releases=20, env_py=ENV_FLASK_STYLE)
        print(f"export {FLASK_URL_VARIABLE}={url}")
    elif kind == "async":
        write_expand_contract(dest, url.replace("sqlite://", "sqlite+aiosqlite://", 1),
                              releases=20, env_py=ENV_ASYNC)
    elif kind == "threaded":
        write_expand_contract(dest, url, releases=20, env_py=ENV_THREADED)
    elif kind == "big":
        generate_project(dest, 300, branch_every=120, heads=1, url=url)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
