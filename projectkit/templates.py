"""The texts of the Alembic projects that the tests and benchmarks write: alembic.ini,
env.py (several kinds) and script.py.mako. The one copy of each; see projectkit/__init__.py.

The synthetic projects of ``genproject`` take env.py and script.py.mako from Alembic's own
"generic" template (``ALEMBIC_GENERIC``), as ``alembic init`` would.
"""

from __future__ import annotations

from pathlib import Path

import alembic

#: Alembic's own "generic" template folder (env.py, script.py.mako).
ALEMBIC_GENERIC = Path(alembic.__file__).parent / "templates" / "generic"

# The environment variable that ENV_FROM_VARIABLE reads its URL from.
URL_VARIABLE = "MIGTUI_TEST_ENV_DB_URL"

_INI_MAIN = """\
[{section}]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
sqlalchemy.url = {url}
"""

_INI_LOGGING = """\
[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def ini_escape(value: str) -> str:
    """A value as alembic.ini needs it: % doubled (the file is interpolated)."""
    return value.replace("%", "%%")


def alembic_ini(url: str = "", *, section: str = "alembic", logging: bool = True) -> str:
    """An alembic.ini: migrations/ next to it, the project folder on sys.path.

    ``url`` is written as it is (escape a real URL with ``ini_escape``; ``%(here)s`` is
    the ini's folder). ``logging`` adds the stock logging sections (for ``fileConfig``).
    """
    main = _INI_MAIN.format(section=section, url=url)
    return main + "\n" + _INI_LOGGING if logging else main


SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

# The body every env.py shares once it knows `url` (or None for the ini's URL).
_RUN = '''
def run_migrations_offline() -> None:
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

# The stock env.py, minus the metadata: fileConfig, URL from the ini.
ENV_STOCK = '''\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
url = config.get_main_option("sqlalchemy.url")
''' + _RUN

# A URL computed in env.py from an environment variable; sqlalchemy.url is empty.
ENV_FROM_VARIABLE = f'''\
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
url = os.environ["{URL_VARIABLE}"]
''' + _RUN

# The URL and a tag come from -x; the env.py is noisy on purpose (print, stderr, logging).
ENV_FROM_X = '''\
import logging
import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
x = context.get_x_argument(as_dictionary=True)
url = x["db"]
print("env.py sees tag=" + x.get("tag", "none"))
sys.stderr.write("env.py writes to stderr\\n")
logging.getLogger("alembic.env").warning("env.py logs a warning")
''' + _RUN

# The async template: async_engine_from_config + run_sync (aiosqlite).
# env.py that runs the migrations on a thread of its own (as some async projects do).
ENV_THREADED = ENV_STOCK.replace(
    "else:\n    run_migrations_online()",
    "else:\n    import threading\n"
    "    worker = threading.Thread(target=run_migrations_online)\n"
    "    worker.start()\n    worker.join()",
)
assert ENV_THREADED != ENV_STOCK

ENV_ASYNC = '''\
import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
'''

# Fails the way a project with missing settings does: on import.
ENV_RAISES = '''\
from alembic import context

raise RuntimeError("settings not configured: DATABASE_URL is missing")
'''

# Batch mode on SQLite; the URL is the Python expression {url_expr}; the pre-flight
# tests also turn on transaction_per_migration={per_migration}. Fill in with .format().
ENV_PREFLIGHT = '''\
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
URL = {url_expr}


def run_migrations_offline():
    context.configure(url=URL, literal_binds=True, dialect_opts={{"paramstyle": "named"}})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    section = config.get_section(config.config_ini_section, {{}})
    section["sqlalchemy.url"] = URL
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            render_as_batch=connection.dialect.name == "sqlite",
            transaction_per_migration={per_migration},
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

# The online half of the async template, with target_metadata: spliced into a copy of
# the sample's env.py in place of its run_migrations_online() (see tests/tables_helpers).
ASYNC_ONLINE = '''
def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations():
    import asyncio
    from sqlalchemy.ext.asyncio import async_engine_from_config

    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


def run_migrations_online() -> None:
    import asyncio

    asyncio.run(run_async_migrations())


if context.is_offline_mode():
'''

# env.py of a schema-per-tenant project: `-x tenant=NAME` sets the search_path and puts
# alembic_version into that schema. target_metadata is what
# the three revisions of tests/environments_helpers.py and benchmarks/bench_fleet.py make.
ENV_TENANTS = '''\
from alembic import context
import sqlalchemy as sa
from sqlalchemy import create_engine, pool, text

config = context.config
url = config.get_main_option("sqlalchemy.url")
tenant = context.get_x_argument(as_dictionary=True).get("tenant")

target_metadata = sa.MetaData()
for name in ("widget", "gadget", "gizmo"):
    sa.Table(name, target_metadata, sa.Column("id", sa.Integer(), primary_key=True),
             sa.Column("name", sa.String(50)))


def run_migrations_offline() -> None:
    context.configure(url=url, literal_binds=True, target_metadata=target_metadata,
                      version_table_schema=tenant)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        if tenant:
            connection.execute(text('SET search_path TO "%s"' % tenant))
            connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table_schema=tenant)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''
