"""Whether a database server answers at all, asked without running env.py.

env.py runs take the process-wide ENV_LOCK one after another, so a server that does
not answer would hold every other read back for its whole connect timeout. Before an
environment's env.py run, its configured URL is connected to here, outside that lock,
with the looking-only timeouts: a server that does not answer costs only the worker
that asked, and is reported without env.py ever waiting on it.

Only a connection error counts. Whatever else gets in the way (an async driver, a
driver that is not installed, a URL that env.py rewrites) is left to env.py's own run.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from migtui.core.env.looking import add_timeouts
from migtui.core.env.urls import mask_url
from migtui.core.errors import from_exception
from migtui.core.models import DatabaseState, DatabaseStatus

_ASYNC_DRIVERS = ("asyncpg", "aiosqlite", "aiomysql", "asyncmy", "psycopg_async")


def unreachable(url: str) -> DatabaseStatus | None:
    """The status of a server that does not answer at ``url``; None when it answered
    (or when this cannot tell: SQLite, an async driver, a missing driver)."""
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError:
        return None
    if parsed.get_backend_name() == "sqlite" or parsed.get_driver_name() in _ASYNC_DRIVERS:
        return None
    try:
        engine = sa.create_engine(parsed, poolclass=NullPool)
    except Exception:  # e.g. the driver is not installed: env.py's run will say so
        return None

    @event.listens_for(engine, "do_connect")
    def _timeouts(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        add_timeouts(dialect, cparams)

    try:
        with engine.connect():
            return None
    except (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError,
            TimeoutError) as exc:
        err = from_exception(exc, "The database cannot be reached")
        return DatabaseStatus(DatabaseState.UNREACHABLE, url=mask_url(url),
                              dialect=parsed.get_backend_name(), error=err.message,
                              error_details=err.details, cause="connection")
    except Exception:
        return None
    finally:
        engine.dispose()
