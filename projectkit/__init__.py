"""Alembic projects written to disk, for the tests and the benchmarks.

Not shipped (the wheel holds src/migtui only) and not a test module: the tests must not
import ``benchmarks`` and the benchmarks should not need pytest or the test helpers, so
what both use lives here, importable from the repository root:

* ``templates``: the alembic.ini, env.py and script.py.mako texts (the one copy of them);
* ``sample``: the bundled sample project copied into a folder;
* ``genproject``: synthetic projects of any size (``python -m projectkit.genproject``);
* ``gentables``: a database of many small tables.
"""
