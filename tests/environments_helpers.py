"""A project with several environments: dev on SQLite, staging and prod on PostgreSQL,
and tenant schemas in a third PostgreSQL database (env.py picks the schema by -x)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import textwrap
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from projects import Rev, write_project

from projectkit.templates import ENV_TENANTS

# Three revisions in a line: widget, gadget, gizmo.
THREE = (
    Rev("a1a1a1a1a1a1", None, "create widget", "widget", date="2026-01-01 10:00:00.000000"),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "create gadget", "gadget",
        date="2026-01-02 10:00:00.000000"),
    Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "create gizmo", "gizmo",
        date="2026-01-03 10:00:00.000000"),
)
R1, R2, R3 = (r.revision for r in THREE)


def write_fleet_project(dest: Path, dev_url: str, config: str) -> Path:
    """The three-revision project with ``config`` (TOML) as its pyproject.toml."""
    write_project(dest, ENV_TENANTS, dev_url, THREE)
    (dest / "pyproject.toml").write_text(textwrap.dedent(config))
    return dest


def fleet_config(staging: str, prod: str, tenants: str, schemas: Sequence[str],
                 qa: str = "") -> str:
    names = ", ".join(f'"{s}"' for s in schemas)
    # qa (on MariaDB) is configured only when given, after prod.
    qa_entry = f'''
        [tool.migtui.environments.qa]
        url = "{qa}"
        ''' if qa else ""
    return f'''\
        [tool.migtui.environments.dev]

        [tool.migtui.environments.staging]
        url = "{staging}"

        [tool.migtui.environments.prod]
        url_env = "MIGTUI_TEST_PROD_URL"
        protected = true
        {qa_entry}
        [tool.migtui.environments.tenants]
        url = "{tenants}"
        schemas = [{names}]
        x_each = "tenant={{schema}}"
        '''


@contextmanager
def pg_databases(server_url: str, count: int, password: str = "") -> Iterator[list[str]]:
    """``count`` new, empty PostgreSQL databases; dropped afterwards. ``password`` goes
    into their URLs (the test server trusts loopback: it is there to be masked)."""
    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = sa.make_url(server_url)
    if password:
        base = base.set(password=password)
    try:
        yield [base.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_schemas(url: str, schemas: Sequence[str]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def alembic(project: Path, *args: str) -> None:
    """Run the real alembic command line in the project (as a user would)."""
    import sys

    subprocess.run([sys.executable, "-m", "alembic", *args], cwd=project, check=True,
                   capture_output=True, text=True)


def psql_version(url: str, schema: str | None = None) -> set[str]:
    """alembic_version as psql prints it (the database's own answer)."""
    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    table = f'"{schema}".alembic_version' if schema else "alembic_version"
    out = subprocess.run(["psql", plain, "-At", "-c", f"SELECT version_num FROM {table}"],
                         check=True, capture_output=True, text=True).stdout
    return {line for line in out.split() if line}


def sqlite_version(path: Path) -> set[str]:
    out = subprocess.run(["sqlite3", str(path), "SELECT version_num FROM alembic_version"],
                         check=True, capture_output=True, text=True).stdout
    return {line for line in out.split() if line}


SCHEMAS = tuple(f"t{n:02d}" for n in range(1, 21))


def build_fleet(dest: Path, urls: Sequence[str], schemas: Sequence[str] = SCHEMAS,
                qa: str = "") -> Path:
    """dev (SQLite) at R3 (head), staging at R2, prod at R1; tenants t01-t10 at R2, the
    others at R1; qa (a MariaDB URL, when given) at R2. ``urls``: staging, prod, tenants.
    MIGTUI_TEST_PROD_URL must hold prod's."""
    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.project import Project

    staging, prod, tenants = urls
    project = write_fleet_project(dest, f"sqlite:///{dest / 'dev.db'}",
                                  fleet_config(staging, prod, tenants, schemas, qa))
    create_schemas(tenants, schemas)

    def upgrade(target: str, url: str | None = None, x: tuple[str, ...] = ()) -> None:
        opened = Project.open(ProjectOptions(cwd=str(project), url=url, x_args=x))
        result = opened.upgrade(target)
        assert result.ok, result.error

    upgrade(R3)
    upgrade(R2, staging)
    upgrade(R1, prod)
    if qa:
        upgrade(R2, qa)
    for index, schema in enumerate(schemas):
        upgrade(R2 if index < len(schemas) // 2 else R1, tenants, (f"tenant={schema}",))
    return project


class SilentServer:
    """A TCP server that accepts connections and never says a word (a database host
    that hangs) until ``release`` closes them all."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self.accepted = threading.Event()  # a client is connected and waiting
        self.released = False
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            self._clients.append(client)
            self.accepted.set()

    def url(self, password: str) -> str:
        """A PostgreSQL URL to this server; libpq waits up to 120 s for its answer."""
        return f"postgresql://app:{password}@127.0.0.1:{self.port}/x?connect_timeout=120"

    def release(self) -> None:
        """Close every connection (the clients get an error) and stop listening."""
        self.released = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        self._sock.close()
        for client in self._clients:
            client.close()
        self._thread.join()


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        if not server.released:
            server.release()


def put_first(project: Path, name: str, url: str) -> None:
    """Configure environment ``name`` before every other one in pyproject.toml."""
    path = project / "pyproject.toml"
    path.write_text(f'[tool.migtui.environments.{name}]\nurl = "{url}"\n\n'
                    + path.read_text())


# env.py of a project whose environments are named by -x only: ``db=NAME`` takes the URL
# from MIGTUI_TEST_URL_NAME (env.py computes it; migtui never sees it), ``tenant=`` picks
# the schema, ``wait=long`` waits for a lock however long; it talks on stdout and stderr.
ENV_PICKS = ENV_TENANTS.replace(
    '''url = config.get_main_option("sqlalchemy.url")
tenant = context.get_x_argument(as_dictionary=True).get("tenant")
''', '''import os
import sys

x = context.get_x_argument(as_dictionary=True)
url = os.environ.get("MIGTUI_TEST_URL_" + x.get("db", ""),
                     config.get_main_option("sqlalchemy.url"))
tenant = x.get("tenant")
print("env.py talks on stdout")
print("env.py talks on stderr", file=sys.stderr)
''').replace('''            connection.commit()
        context.configure(connection=connection,''', '''            connection.commit()
        if x.get("wait") == "long":
            connection.execute(text("SET lock_timeout = 0"))
            connection.execute(text("SET statement_timeout = 0"))
            connection.commit()
        context.configure(connection=connection,''')
assert "wait" in ENV_PICKS and "MIGTUI_TEST_URL_" in ENV_PICKS


def build_picked(dest: Path, url: str, config: str, schemas: Sequence[str]) -> Path:
    """The three-revision project on ``url`` (its alembic.ini), env.py ENV_PICKS, with
    ``config`` as its pyproject.toml; tenant schema k of ``schemas`` at R1 if k is odd,
    else R2."""
    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.project import Project

    write_project(dest, ENV_PICKS, url, THREE)
    (dest / "pyproject.toml").write_text(textwrap.dedent(config))
    create_schemas(url, schemas)
    for index, schema in enumerate(schemas):
        opened = Project.open(ProjectOptions(cwd=str(dest), x_args=(f"tenant={schema}",)))
        result = opened.upgrade(R1 if index % 2 else R2)
        assert result.ok, result.error
    return dest
