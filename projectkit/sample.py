"""The bundled sample project (alembic.ini, migrations/, sampleapp/) copied elsewhere."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The sample's own database setting, which copy_sample replaces.
SAMPLE_URL_SETTING = "sqlalchemy.url = sqlite:///%(here)s/sample.db"


def copy_sample(dest: Path, url: str | None = None) -> Path:
    """Copy the bundled sample project into dest, optionally pointing it at another URL."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "alembic.ini", dest / "alembic.ini")
    for folder in ("migrations", "sampleapp"):
        shutil.copytree(REPO / folder, dest / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    if url is not None:
        ini = dest / "alembic.ini"
        text = ini.read_text()
        assert SAMPLE_URL_SETTING in text, "the sample's sqlalchemy.url changed"
        ini.write_text(text.replace(SAMPLE_URL_SETTING,
                                    "sqlalchemy.url = " + url.replace("%", "%%")))
    return dest
