"""The project as it was last opened, so that a warm start draws its graph without Alembic.

Building Alembic's ``Config`` imports alembic, which imports SQLAlchemy: about 0.3 s
before anything is on screen. What the first graph needs from it is little: the config
file's name, the script location and where the revision files are. That is kept here,
per working folder and command line, in a small JSON file beside the header cache. It
holds only while the config files are exactly as they were (which of alembic.ini and
pyproject.toml exist, their size and mtime) and Alembic is the same version; anything
else is the slow path of before. The real ``Config`` and ``ScriptDirectory`` are built
later, in a worker, and whatever they say differently wins (see revisions/loader.py).
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migtui.core.actions.config import ProjectOptions, config_files, toml_has_alembic
from migtui.core.revisions.diskcache import alembic_version, cache_dir, prune
from migtui.core.revisions.files import Locations

_FORMAT = 1
Stamps = tuple[tuple[str, int, int] | tuple[str], ...]  # (path, size, mtime) or (path,)


@dataclass(frozen=True)
class Remembered:
    """What opening the project found, valid for the config files' stamps."""

    config_file: str
    script_location: str
    locations: Locations


def config_stamps(options: ProjectOptions) -> Stamps:
    """The config files the options would read, each with its size and mtime (or alone
    when it does not exist): when these are the same, so is what Alembic reads."""
    stamps: list[tuple[str, int, int] | tuple[str]] = []
    for path in config_files(options):
        try:
            st = os.stat(path)
        except OSError:
            stamps.append((str(path),))
        else:
            stamps.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(stamps)


def _file(options: ProjectOptions) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    key = json.dumps([options.cwd, options.config_files, options.name,
                      os.environ.get("ALEMBIC_CONFIG", "")])
    return folder / f"project-{hashlib.sha1(key.encode()).hexdigest()[:20]}.json"


def recall(options: ProjectOptions, stamps: Stamps) -> Remembered | None:
    """What the last open of these options found, if the config files are unchanged."""
    file = _file(options)
    if file is None:
        return None
    try:
        data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
        if (data.get("format") != _FORMAT or data.get("alembic") != alembic_version()
                or [tuple(s) for s in data["stamps"]] != list(stamps)):
            return None
        where = data["locations"]
        return Remembered(
            str(data["config_file"]), str(data["script_location"]),
            Locations(str(where["dir"]), tuple(str(p) for p in where["version_locations"]),
                      bool(where["sourceless"]), bool(where["recursive"])))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


# Options that change where Alembic looks for revision files: a config with any of them
# takes the slow path (Alembic's own Config), as does a package resource location.
_NOT_SIMPLE = ("version_locations", "sourceless", "recursive_version_locations")


def first_look(options: ProjectOptions) -> Remembered | None:
    """Where a plain project's revision files are, read from its .ini without Alembic.

    For a first start (nothing remembered yet) of the common layout: an .ini with the
    section, ``script_location`` a folder (``%(here)s`` allowed), no pyproject
    ``[tool.alembic]`` and none of the options that move the revision files. The values
    are Alembic's own (``ScriptDirectory.from_config``: the folder as written, its
    ``versions`` made absolute); None for anything else, or anything that fails to read,
    which is then left to Alembic's Config. The real script directory is still built
    later, and what it finds wins.
    """
    ini, toml = config_files(options)
    if options.cwd != os.getcwd() or any("=" not in x for x in options.x_args):
        return None  # Alembic resolves a relative location against the process's folder
    try:
        if not ini.is_file() or toml_has_alembic(toml):
            return None
        parser = configparser.ConfigParser({"here": ini.absolute().parent.as_posix()})
        if not parser.read(ini, encoding="locale"):
            return None
        section = options.name
        location = parser.get(section, "script_location", fallback=None)
        if not location or any(parser.has_option(section, o) for o in _NOT_SIMPLE):
            return None
    except Exception:  # a broken file, say: Alembic's Config says what is wrong
        return None
    if ":" in location and not os.path.isabs(location):
        return None  # a package resource ("package:folder")
    folder = Path(location)
    if not folder.is_dir():
        return None  # Alembic's error message, from the slow path
    versions = str(Path(folder, "versions").absolute())
    return Remembered(str(ini), location, Locations(str(folder), (versions,)))


def remember(options: ProjectOptions, stamps: Stamps, found: Remembered) -> None:
    """Keep what opening the project found, for the next start; never raises."""
    file = _file(options)
    if file is None:
        return
    where = found.locations
    data = {"format": _FORMAT, "alembic": alembic_version(), "stamps": stamps,
            "config_file": found.config_file, "script_location": found.script_location,
            "locations": {"dir": where.dir, "version_locations": where.version_locations,
                          "sourceless": where.sourceless, "recursive": where.recursive}}
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, file)
        prune(file.parent, "project")
    except OSError:
        pass
