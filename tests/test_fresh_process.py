"""Tasks in a fresh process (core.autogen.fresh_process): fresh imports, timeouts, output.

Real processes throughout: the forkserver of multiprocessing, real kills, and a real
app process (a Python subprocess) for what happens to the terminal and at exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from migtui.core.autogen.fresh_process import run_fresh, warm
from migtui.core.errors import MigtuiError

TASKS = '''\
import os
import signal
import sys
import time


def probe(request):
    return {"pid": os.getpid(), "cwd": os.getcwd(), "ppid": os.getppid(),
            "seen": sorted(m for m in request["modules"] if m in sys.modules)}


def sleep(request):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # env.py may do this
    with open(request["pidfile"], "w") as out:
        out.write(str(os.getpid()))
    time.sleep(300)
    return {}


def talk(request):
    print("printed to stdout")
    print("printed to stderr", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, b"written to fd 1\\n")
    os.write(2, b"written to fd 2\\n")
    return {"said": "hello"}


def die(request):
    os.write(2, b"the last words\\n")
    os._exit(3)


def count(request):
    for n in range(request["to"]):
        yield {"n": n, "pid": os.getpid()}
    return {"counted": request["to"]}
'''


@pytest.fixture
def tasks(tmp_path: Path) -> Path:
    """A folder with a module of tasks; the tasks' working folder."""
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "fresh_tasks.py").write_text(TASKS)
    (folder / "user_models_here.py").write_text("LOADED = True\n")
    return folder


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def wait_until_gone(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_task_runs_in_a_new_process_without_the_apps_modules(
    tasks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tasks))
    import user_models_here  # noqa: F401  (the app has imported a user module)

    assert "user_models_here" in sys.modules
    answers = [run_fresh("fresh_tasks:probe", {"modules": ["user_models_here"]}, str(tasks))
               for _ in range(2)]
    for answer in answers:
        assert answer["pid"] != os.getpid()
        assert answer["cwd"] == str(tasks)
        assert answer["seen"] == [], "the task's process never imported the user's module"
    assert answers[0]["pid"] != answers[1]["pid"], "one process per task"


def test_a_task_past_its_timeout_is_killed_and_reported(tasks: Path) -> None:
    run_fresh("fresh_tasks:probe", {"modules": []}, str(tasks))  # the server is up
    pidfile = tasks / "pid"
    with pytest.raises(MigtuiError) as raised:
        run_fresh("fresh_tasks:sleep", {"pidfile": str(pidfile)}, str(tasks), timeout=2)
    assert raised.value.message == "The task did not finish within 2 s, so it was stopped"
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped before run_fresh returned


def test_a_task_that_ends_without_an_answer_is_reported_with_its_output(tasks: Path) -> None:
    with pytest.raises(MigtuiError) as raised:
        run_fresh("fresh_tasks:die", {}, str(tasks))
    assert raised.value.message == (
        "The Python process ended without an answer (exit status 3): the last words")
    assert "the last words" in raised.value.details


def app_process(script: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``script`` as a new app process (its own fork server), output captured."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_nothing_of_a_task_reaches_the_apps_terminal(tasks: Path) -> None:
    done = app_process(f'''
        import json
        from migtui.core.autogen.fresh_process import run_fresh, warm
        from migtui.core.errors import MigtuiError

        said = run_fresh("fresh_tasks:talk", {{}}, {str(tasks)!r})
        try:
            run_fresh("fresh_tasks:die", {{}}, {str(tasks)!r})
        except MigtuiError as exc:
            error = exc.message
        print(json.dumps({{"said": said, "error": error}}))
    ''', tasks)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout) == {
        "said": {"said": "hello"},
        "error": "The Python process ended without an answer (exit status 3): the last words",
    }


def test_quitting_the_app_kills_its_running_task(tasks: Path) -> None:
    pidfile = tasks / "pid"
    done = app_process(f'''
        import contextlib, os, threading, time
        from migtui.core.autogen.fresh_process import run_fresh, warm
        from migtui.core.errors import MigtuiError

        def worker():
            with contextlib.suppress(MigtuiError):  # its task is killed at exit
                run_fresh("fresh_tasks:sleep", {{"pidfile": {str(pidfile)!r}}}, {str(tasks)!r})

        threading.Thread(target=worker, daemon=True).start()
        while not os.path.exists({str(pidfile)!r}) or not open({str(pidfile)!r}).read():
            time.sleep(0.05)
        print("quitting")
    ''', tasks, timeout=60)  # a hang would end here, long before the task's 300 s
    assert done.returncode == 0, done.stderr
    assert done.stdout == "quitting\n" and done.stderr == ""
    assert wait_until_gone(int(pidfile.read_text())), "the task outlived the app"


def test_a_cancelled_task_is_killed_and_reported(tasks: Path) -> None:
    pidfile = tasks / "pid"
    with pytest.raises(MigtuiError) as raised:
        run_fresh("fresh_tasks:sleep", {"pidfile": str(pidfile)}, str(tasks),
                  cancelled=lambda: pidfile.exists() and bool(pidfile.read_text()))
    assert raised.value.message == "The task was cancelled, so it was stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)


def test_tasks_run_and_quitting_is_prompt_inside_a_textual_app(tasks: Path) -> None:
    """Under Textual (sys.stderr is its stand-in, with no descriptor), tasks start; on
    quit Textual cancels the worker, which kills the running task."""
    pidfile = tasks / "pid"
    done = app_process(f'''
        import json, os, sys
        from textual import work
        from textual.app import App
        from textual.worker import get_current_worker
        from migtui.core.autogen.fresh_process import run_fresh, warm
        from migtui.core.errors import MigtuiError

        TASKS, PIDFILE = {str(tasks)!r}, {str(pidfile)!r}

        class Tasks(App[None]):
            fileno, answer, error = None, None, ""

            def on_mount(self) -> None:
                self.run_tasks()
                self.set_interval(0.05, self.quit_once_sleeping)

            def quit_once_sleeping(self) -> None:
                if os.path.exists(PIDFILE) and open(PIDFILE).read():
                    self.exit()

            @work(thread=True, exit_on_error=False)
            def run_tasks(self) -> None:
                worker = get_current_worker()
                self.fileno = sys.stderr.fileno()
                self.answer = run_fresh("fresh_tasks:probe", {{"modules": []}}, TASKS)
                try:
                    run_fresh("fresh_tasks:sleep", {{"pidfile": PIDFILE}}, TASKS,
                              cancelled=lambda: worker.is_cancelled)
                except MigtuiError as exc:
                    self.error = exc.message

        app = Tasks()
        app.run(headless=True)
        print(json.dumps({{"fileno": app.fileno, "ran": app.answer is not None,
                          "error": app.error}}))
    ''', tasks, timeout=60)  # a hang would end here, long before the task's 300 s
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "fileno": -1, "ran": True, "error": "The task was cancelled, so it was stopped"}
    assert wait_until_gone(int(pidfile.read_text())), "the task outlived the app"


def test_a_generator_task_sends_each_part_as_it_goes(tasks: Path) -> None:
    parts: list[dict[str, int]] = []
    answer = run_fresh("fresh_tasks:count", {"to": 3}, str(tasks), on_part=parts.append)
    assert answer == {"counted": 3}
    assert [p["n"] for p in parts] == [0, 1, 2] and parts[0]["pid"] != os.getpid()


def _fork_servers() -> set[int]:
    """This process's children that are multiprocessing's fork server."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"multiprocessing.forkserver" in cmdline:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(bool(os.environ.get("MIGTUI_NO_FORK_SERVER")), reason="no fork server")
def test_warm_starts_the_server_that_tasks_are_forked_from(tasks: Path) -> None:
    """The app warms the server once the database is read: the first a then only forks."""
    warm()
    [server] = _fork_servers()
    warm()  # again: the same server
    assert _fork_servers() == {server}
    answer = run_fresh("fresh_tasks:probe", {"modules": []}, str(tasks))
    assert answer["ppid"] == server


@pytest.mark.skipif(bool(os.environ.get("MIGTUI_NO_FORK_SERVER")), reason="no fork server")
@pytest.mark.parametrize("uses_sqlmodel", [False, True])
def test_the_server_preloads_what_the_first_read_found_imported(
        tmp_path: Path, tasks: Path, uses_sqlmodel: bool) -> None:
    """The first read (env.py run in a new interpreter) says which drivers and whether
    SQLModel the project imports; the comparisons' server, started after it, imports
    those and not the others (a SQLite project waits for no PostgreSQL or MySQL driver)."""
    from projects import ENV_STOCK, sqlite_url, write_project

    env_py = ENV_STOCK.replace("config = context.config",
                               "import sqlmodel  # the models are SQLModel's\n"
                               "config = context.config") if uses_sqlmodel else ENV_STOCK
    project = write_project(tmp_path / "proj", env_py, url=sqlite_url(tmp_path / "p.db"))
    watched = ["sqlalchemy.dialects.sqlite", "psycopg", "psycopg2", "pymysql", "sqlmodel"]
    done = app_process(f'''
        import json, sys
        sys.path.insert(0, {str(tasks)!r})
        from migtui.core.actions.config import ProjectOptions
        from migtui.core.autogen.fresh_process import run_fresh, warm
        from migtui.core.environments.reading import FirstRead

        status = FirstRead(ProjectOptions(cwd={str(project)!r})).status()
        warm()
        seen = run_fresh("fresh_tasks:probe", {{"modules": {watched!r}}}, {str(tasks)!r})
        print(json.dumps({{"state": status.state.value, "seen": seen["seen"]}}))
    ''', project)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["state"] == "ok"
    expected = ["sqlalchemy.dialects.sqlite", *(["sqlmodel"] if uses_sqlmodel else [])]
    assert answer["seen"] == sorted(expected)


def test_a_task_in_an_interpreter_of_its_own_answers_as_a_forked_one(tasks: Path) -> None:
    """``new_interpreter`` (the first read at launch): the same answers and errors; a
    file of the project named like a module the start imports does not stand in for it."""
    (tasks / "json.py").write_text("raise RuntimeError('the project json.py was imported')\n")
    done = app_process(f'''
        import sys
        del sys.path[0]  # (as for the migtui script: its folder, not the working one)
        import os
        from migtui.core.autogen.fresh_process import run_fresh

        answer = run_fresh("fresh_tasks:probe", {{"modules": ["user_models_here"]}},
                           {str(tasks)!r}, new_interpreter=True)
        print(answer["ppid"] == os.getpid(), answer["cwd"], answer["seen"])
    ''', tasks)  # (the app runs in the project's folder, as migtui does)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"True {tasks} []\n"
    parts: list[dict[str, int]] = []
    assert run_fresh("fresh_tasks:count", {"to": 3}, str(tasks), on_part=parts.append,
                     new_interpreter=True) == {"counted": 3}
    assert [p["n"] for p in parts] == [0, 1, 2]
    with pytest.raises(MigtuiError) as raised:
        run_fresh("fresh_tasks:die", {}, str(tasks), new_interpreter=True)
    assert raised.value.message == (
        "The Python process ended without an answer (exit status 3): the last words")


def test_a_task_in_an_interpreter_of_its_own_ends_when_its_app_is_killed(tasks: Path) -> None:
    """The app killed outright (no exit handler runs): its task sees the job's pipe end
    and ends by itself, instead of running on for its 300 s."""
    pidfile = tasks / "pid"
    done = app_process(f'''
        import contextlib, os, signal, threading, time
        from migtui.core.autogen.fresh_process import run_fresh
        from migtui.core.errors import MigtuiError

        def worker():
            with contextlib.suppress(MigtuiError):
                run_fresh("fresh_tasks:sleep", {{"pidfile": {str(pidfile)!r}}}, {str(tasks)!r},
                          new_interpreter=True)

        threading.Thread(target=worker, daemon=True).start()
        while not os.path.exists({str(pidfile)!r}) or not open({str(pidfile)!r}).read():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGKILL)
    ''', tasks, timeout=60)
    assert done.returncode == -9
    assert wait_until_gone(int(pidfile.read_text())), "the task outlived the app"
