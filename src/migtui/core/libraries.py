"""Alembic and SQLAlchemy, imported into the app's process by one thread at a time.

Two threads importing SQLAlchemy (or Alembic, which imports it) at once can each hold
a part of its circular imports and find the other's modules half initialised
("cannot import name ... from partially initialized module"). The app imports neither
before its first paint, and its first database read runs in another process
(core/environments/reading.py: FirstRead), so afterwards several workers may be the
first to need them at the same moment: the load worker, a dialog opened by a key
typed at the first paint, the tables screen built in the background.

So every thread worker of the app that may use them starts with :func:`load`
(:func:`needs_libraries`), which imports them all the first time, under one lock,
while the others wait; and the few places that import only a part of them, before
that or in a worker that needs no more (the revision loader on a cold cache, the URL
parser), do it inside :func:`importing`. Once loaded, both cost nothing.
tests/test_libraries_gate.py watches every such import while a key is answered.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

# What migtui's core, env.py files and model modules import of them: the dialects of
# the databases migtui knows, the ORM (SQLModel and declarative models) and asyncio
# (async env.py templates) too, so that nothing of SQLAlchemy's is imported later by
# two threads at once.
MODULES = (
    "sqlalchemy",
    "sqlalchemy.engine.reflection",
    "sqlalchemy.pool",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.mysql",
    "alembic",
    "alembic.config",
    "alembic.script",
    "alembic.runtime.migration",
    "alembic.runtime.environment",
    "alembic.operations",
    "alembic.autogenerate",
    "alembic.autogenerate.render",
)

_LOCK = threading.RLock()
_loaded = threading.Event()
_holder: int | None = None  # the thread importing under the lock

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def importing() -> Iterator[None]:
    """Hold the import lock (for an import of a part of them before :func:`load`)."""
    global _holder
    if _loaded.is_set():
        yield
        return
    with _LOCK:
        outer, _holder = _holder, threading.get_ident()
        try:
            yield
        finally:
            _holder = outer


def load() -> None:
    """Import Alembic and SQLAlchemy (once per process; other threads wait meanwhile)."""
    if _loaded.is_set():
        return
    with importing():
        if not _loaded.is_set():
            for name in MODULES:
                try:
                    importlib.import_module(name)
                except ImportError:  # (an optional part missing: whoever needs it says so)
                    continue
            _loaded.set()


def loaded() -> bool:
    """Whether :func:`load` has run to its end in this process."""
    return _loaded.is_set()


def held_here() -> bool:
    """Whether this thread imports under the lock now (for the test that checks it)."""
    return _holder == threading.get_ident()


def needs_libraries(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` (a thread worker's body) runs once :func:`load` has."""

    @functools.wraps(function)
    def loaded_first(*args: P.args, **kwargs: P.kwargs) -> R:
        load()
        return function(*args, **kwargs)

    return loaded_first
