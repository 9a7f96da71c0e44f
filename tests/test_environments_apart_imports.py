"""An environment read apart (core/environments/reading.py) imports what env.py would
import in the app and in `alembic current`: the app's sys.path, not the project's
folder put first on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from projects import ENV_STOCK, LINEAR, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.environments.reading import read_apart
from migtui.core.models import DatabaseState, DatabaseStatus

# env.py that takes its URL from a module beside alembic.ini, which has no prepend_sys_path.
ENV_URL_FROM_MODULE = ENV_STOCK.replace(
    'url = config.get_main_option("sqlalchemy.url")\n',
    "import dbsettings\nurl = dbsettings.URL\n")
assert ENV_URL_FROM_MODULE != ENV_STOCK


def test_an_environment_read_apart_imports_what_alembic_imports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_project(tmp_path / "proj", env_py=ENV_URL_FROM_MODULE, revisions=LINEAR)
    ini = folder / "alembic.ini"
    ini.write_text(ini.read_text().replace("prepend_sys_path = .\n", ""))
    (folder / "dbsettings.py").write_text(f"URL = {sqlite_url(tmp_path / 'a.db')!r}\n")
    alembic = subprocess.run([str(Path(sys.executable).parent / "alembic"), "current"],
                             cwd=folder, capture_output=True, text=True)
    assert alembic.returncode != 0 and "No module named 'dbsettings'" in alembic.stderr
    # sys.path as `migtui` starts with it (without the "." that an earlier test's
    # prepend_sys_path kept), and the project's folder as the working folder.
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    monkeypatch.chdir(folder)
    options = ProjectOptions(cwd=str(folder))
    here = Project.open(options).status()
    assert here.state is DatabaseState.UNREACHABLE and "dbsettings" in here.error
    heard: dict[int, DatabaseStatus] = {}
    read_apart([options], lambda index, status: heard.update({index: status}))
    apart = heard[0]
    assert (apart.state, apart.cause, apart.error) == (here.state, here.cause, here.error)
