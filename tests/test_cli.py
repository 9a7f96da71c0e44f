"""The `migtui` command line: --help, --version, and bad input ending in exit status 2
with exactly one line on stderr and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from projects import write_project

from migtui import __version__
from migtui.tui.cli import main, parse_options

SCRIPT = Path(sys.executable).with_name("migtui")  # the installed console script


def run_migtui(
    args: Sequence[str], cwd: Path, script: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run migtui in a fresh process (the console script, or python -m)."""
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "migtui.tui.cli"]
    env = {k: v for k, v in os.environ.items() if k != "ALEMBIC_CONFIG"}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def run_main(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """main(argv) in this process: (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse exits on its own
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str) -> str:
    """Exit status 2, nothing on stdout, exactly one line on stderr, no traceback."""
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("migtui: error: ")
    assert "Traceback" not in err
    return err.strip()


@pytest.fixture(autouse=True)
def _no_alembic_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALEMBIC_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _never_launch_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about refusing to start: if main() got as far as the app, fail."""
    from migtui.tui.app import MigtuiApp

    def launched(*args: object, **kwargs: object) -> None:
        raise AssertionError("main() launched the app")

    monkeypatch.setattr(MigtuiApp, "run", launched)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid project as the working folder (main() would open the app on it)."""
    folder = write_project(tmp_path / "p", url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.chdir(folder)
    return folder


# -- in a real process -----------------------------------------------------------------


def test_no_alembic_ini_in_the_folder(tmp_path: Path) -> None:
    done = run_migtui([], tmp_path)
    line = assert_one_line_error(done.returncode, done.stdout, done.stderr)
    assert str(tmp_path / "alembic.ini") in line
    assert "pyproject.toml" in line


@pytest.mark.skipif(not SCRIPT.exists(), reason="the migtui console script is not installed")
def test_the_console_script_says_the_same(tmp_path: Path) -> None:
    done = run_migtui([], tmp_path, script=True)
    line = assert_one_line_error(done.returncode, done.stdout, done.stderr)
    assert str(tmp_path / "alembic.ini") in line


def test_version(tmp_path: Path) -> None:
    done = run_migtui(["--version"], tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"migtui {__version__}"


def test_help(tmp_path: Path) -> None:
    done = run_migtui(["--help"], tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    for flag in ("-c FILE", "-n NAME", "-x KEY=VALUE", "--url URL", "--read-only", "--version"):
        assert flag in done.stdout


def test_unknown_flag(tmp_path: Path) -> None:
    done = run_migtui(["--bogus"], tmp_path)
    line = assert_one_line_error(done.returncode, done.stdout, done.stderr)
    assert "--bogus" in line


# -- main() in this process ----------------------------------------------------------


@pytest.mark.parametrize(("argv", "says"), [
    (["--url"], "--url"),
    (["-x"], "-x"),
    (["-n"], "-n"),
    (["--read-only=yes"], "--read-only"),
    (["extra"], "extra"),
])
def test_bad_flags(argv: list[str], says: str, capsys: pytest.CaptureFixture[str],
                   project: Path) -> None:
    line = assert_one_line_error(*run_main(argv, capsys))
    assert says in line


@pytest.mark.parametrize("value", ["novalue", ""])
def test_bad_x_argument(value: str, capsys: pytest.CaptureFixture[str], project: Path) -> None:
    line = assert_one_line_error(*run_main(["-x", value], capsys))
    assert "-x" in line


def test_no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    line = assert_one_line_error(*run_main([], capsys))
    assert str(tmp_path / "alembic.ini") in line


def test_config_file_not_found(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_one_line_error(*run_main(["-c", "missing.ini"], capsys))
    assert str(project / "missing.ini") in line


def test_section_that_does_not_exist(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_one_line_error(*run_main(["-n", "nosuchsection"], capsys))
    assert "[nosuchsection]" in line


def test_script_location_that_does_not_exist(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = project / "alembic.ini"
    ini.write_text(ini.read_text().replace("%(here)s/migrations", "%(here)s/gone"))
    line = assert_one_line_error(*run_main([], capsys))
    assert "script_location" in line and str(project / "gone") in line


def test_ini_that_does_not_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "alembic.ini").write_text("[alembic\nscript_location\n")
    monkeypatch.chdir(tmp_path)
    line = assert_one_line_error(*run_main([], capsys))
    assert "alembic.ini" in line


def test_options_reach_the_project_options(project: Path) -> None:
    options = parse_options(["-c", "alembic.ini", "-n", "other", "-x", "a=1", "-x", "b=x=y",
                             "--url", "sqlite:///x.db", "--read-only"])
    assert options.config_files == ("alembic.ini",)
    assert options.name == "other"
    assert options.x_args == ("a=1", "b=x=y")
    assert options.url == "sqlite:///x.db"
    assert options.read_only
    assert options.cwd == str(project)
