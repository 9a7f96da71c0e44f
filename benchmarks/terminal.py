"""First paint in a real terminal (issue 15): migtui against alembic, Textual and lazyalembic.

Each program runs in a pseudo-terminal of 140x40 whose output is rendered by ``pyte``
(a VT emulator), so what is timed is what a user would see: from the process start
until a text is on the rendered screen.

* ``migtui`` (the header cache warm, and a first open with an empty cache): until the
  head revision's id is on screen;
* ``alembic history``: until the process has written everything and exited;
* a Textual "hello world" (benchmarks/hello.py): until "Hello, world" is on screen;
* ``lazyalembic``, when installed: until the head revision's id is on screen;
* ``alembic current``, and ``migtui`` with ``u`` typed as soon as the head is on screen:
  until the upgrade's confirmation is on screen (issue 15: a key typed early is not lost);
* ``migtui`` headless (``run_test``, benchmarks/session.py): until the head row shows.

The programs run one after the other within each round, rounds repeated (interleaved),
so that machine noise hits all alike. Each figure is the median [min-max] of the runs;
each ratio is the median [min-max] of the per-run ratios against ``alembic history`` of
the same round, followed by the per-run ratios. Usage::

    python -m benchmarks.terminal [--sizes 300,1000,10000] [--runs 5] [--work DIR]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyte

from benchmarks.run import _alembic, _env, _timed
from projectkit.genproject import generate_project

COLUMNS, LINES = 140, 40
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 300.0
# migtui's targets (issue 15), as ratios to `alembic history` in the same round.
TARGETS = {300: 1.0, 1000: 0.8, 10000: 0.15}


def _script(name: str) -> list[str]:
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else []


def _preexec() -> None:  # pragma: no cover - runs in the child
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes the controlling terminal


def in_terminal(cmd: Sequence[str], cwd: Path, env: dict[str, str], *,
                until: Callable[[str], bool] | None = None, keys: bytes = b"",
                keys_when: Callable[[str], bool] | None = None,
                sent: list[float] | None = None) -> tuple[float, str]:
    """Run ``cmd`` in a 140x40 pseudo-terminal: (seconds, the screen's text).

    With ``until``, the time until ``until(screen text)`` first holds (the process is
    then killed); without, the time until the process exits, having drained its output.
    ``keys`` are typed as soon as ``keys_when(screen)`` holds (asked again while the
    program writes nothing, twenty times a second; ``sent`` gets when, in seconds from
    the start).
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {**env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
    screen = pyte.Screen(COLUMNS, LINES)
    stream = pyte.ByteStream(screen)
    started = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=slave, stdout=slave,
                            stderr=slave, preexec_fn=_preexec, close_fds=True)
    os.close(slave)
    elapsed: float | None = None
    tail = b""
    text = ""

    def type_keys() -> bytes:
        os.write(master, keys)
        if sent is not None:
            sent.append(time.perf_counter() - started)
        return b""

    try:
        while True:
            if time.perf_counter() - started > TIMEOUT:
                raise TimeoutError(f"{' '.join(cmd)}: nothing after {TIMEOUT:.0f} s")
            ready, _, _ = select.select([master], [], [], 0.05 if keys else 0.5)
            if not ready:
                if until is None and proc.poll() is not None:
                    break
                if keys and keys_when is not None and keys_when(text):
                    keys = type_keys()
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: every writer closed the terminal
                data = b""
            if not data:
                break
            if until is None:
                tail = (tail + data)[-(1 << 16):]  # alembic's output: only drained
                continue
            stream.feed(data)
            text = "\n".join(screen.display)
            if keys and keys_when is not None and keys_when(text):
                keys = type_keys()
            if until(text):
                elapsed = time.perf_counter() - started
                break
        if elapsed is None:
            proc.wait()
            elapsed = time.perf_counter() - started
            if until is not None or proc.returncode != 0:
                stream.feed(tail)
                raise RuntimeError(f"{' '.join(cmd)} ended ({proc.returncode}) without "
                                   f"showing it:\n" + "\n".join(screen.display).rstrip())
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    return elapsed, "\n".join(screen.display)


_WARM = """
from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
project = Project.open(ProjectOptions())
project.graph()
project.verify()
"""


def _warm(project: Path, env: dict[str, str]) -> None:
    """Fill the header cache as a first session does (the authoritative load too)."""
    subprocess.run([sys.executable, "-c", _WARM], cwd=project, env=env, check=True)


def _stats(values: Sequence[float]) -> str:
    return (f"{statistics.median(values):6.3f} s "
            f"[{min(values):.3f}-{max(values):.3f}]")


def _ratios(mine: Sequence[float], theirs: Sequence[float]) -> str:
    ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
    each = " ".join(f"{r:.2f}" for r in ratios)
    return (f"{statistics.median(ratios):5.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"
            f"   ({each})")


def bench_size(n: int, runs: int, work: Path, *, lazyalembic: bool = True) -> list[str]:
    """The first-paint table of one project size, as printable lines."""
    project = work / f"t{n}"
    shutil.rmtree(project, ignore_errors=True)
    ids = generate_project(project, n)
    head = ids[-1]
    cache = work / f"tcache{n}"
    shutil.rmtree(cache, ignore_errors=True)
    env = _env(cache)
    _warm(project, env)

    def shows(text: str) -> Callable[[str], bool]:
        return lambda screen: text in screen

    programs: dict[str, Callable[[int], float]] = {
        "alembic history": lambda _i: in_terminal([*_alembic(), "history"], project, env)[0],
        "migtui (cache warm)": lambda _i: in_terminal(
            _script("migtui"), project, env, until=shows(head))[0],
        "migtui (first open)": lambda i: in_terminal(
            _script("migtui"), project, _env(work / f"tempty{n}-{i}"), until=shows(head))[0],
        "Textual hello world": lambda _i: in_terminal(
            [sys.executable, str(REPO / "benchmarks" / "hello.py")], project, env,
            until=shows("Hello, world"))[0],
        "migtui headless (run_test)": lambda _i: _timed(
            [sys.executable, "-m", "benchmarks.session", "cold"], project, env,
            until="HEAD")[0],
    }
    confirm = f"Upgrade to {ids[0]}?"  # the database is at base: u upgrades to the first
    programs["alembic current"] = lambda _i: in_terminal(
        [*_alembic(), "current"], project, env)[0]
    programs["migtui u at paint: dialog"] = lambda _i: in_terminal(
        _script("migtui"), project, env, until=shows(confirm), keys=b"u",
        keys_when=shows(head))[0]
    if lazyalembic and _script("lazyalembic"):
        programs["lazyalembic"] = lambda _i: in_terminal(
            _script("lazyalembic"), project, env, until=shows(head))[0]
    for run in programs.values():  # once each, unmeasured: file system and .pyc caches
        run(-1)
    times: dict[str, list[float]] = {name: [] for name in programs}
    for i in range(runs):
        for name, run in programs.items():
            times[name].append(run(i))
            shutil.rmtree(work / f"tempty{n}-{i}", ignore_errors=True)
    base = times["alembic history"]
    target = TARGETS.get(n)
    lines = [f"N = {n:,} revisions (a branch and merge every 50), {runs} interleaved runs, "
             f"{COLUMNS}x{LINES}" + (f"; target for migtui (cache warm) <= {target}x"
                                     if target else ""),
             f"  {'program':<28} {'first paint':>24}   {'vs alembic history (per run)'}"]
    for name, values in times.items():
        lines.append(f"  {name:<28} {_stats(values):>24}   {_ratios(values, base)}")
    hello = statistics.median(times["Textual hello world"])
    warm = statistics.median(times["migtui (cache warm)"])
    dialog, current = times["migtui u at paint: dialog"], times["alembic current"]
    lines.append(f"  u pressed at first paint until its confirmation is open, vs alembic current: "
                 f"{_ratios(dialog, current)}")
    lines.append(f"  migtui (cache warm) - Textual hello world: {warm - hello:+.3f} s (medians)")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1000,10000",
                        help="comma-separated revision counts (default 300,1000,10000)")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs (default 5)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the projects")
    parser.add_argument("--no-lazyalembic", action="store_true",
                        help="leave lazyalembic out even when it is installed")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="migtui-term-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; work folder {work}",
          flush=True)
    for n in (int(s) for s in args.sizes.split(",") if s):
        for line in bench_size(n, args.runs, work, lazyalembic=not args.no_lazyalembic):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
