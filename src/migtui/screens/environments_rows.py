"""The rows of the environments screen: one per environment, tenants under their group.

Everything here is text from files and databases (names, URLs, errors): it is shown as
rich ``Text``, never markup, with control characters made visible.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from migtui.core.environments.config import Environment
from migtui.core.environments.fleet import Drift, EnvironmentRead
from migtui.widgets.safe_text import safe_line

COLUMNS = ("Environment", "Dialect", "Revision", "Pending", "Reachable", "Drift", "Read",
           "URL")


_DRIVER = re.compile(r"^(\w+: )?\([\w.]+\) ")  # "OperationalError: (psycopg.Op…) "
REASON_WIDTH = 44  # of why a database was not read, in its cell (the rest behind e)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def clock(timestamp: float) -> str:
    """When an environment was read, as the Read column shows it."""
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


@dataclass(frozen=True)
class Row:
    """One line of the table: an environment, or a group of tenants."""

    key: str  # the environment's name, or "group:NAME"
    cells: tuple[Text, ...]


def _heads(read: EnvironmentRead | None) -> str:
    if read is None:
        return "…"
    if not read.status.reachable:
        return "?"
    return ", ".join(h[:12] for h in read.status.current_heads) or "base"


def _reachable(env: Environment, read: EnvironmentRead | None) -> Text:
    if env.problem:
        return safe_line(f"✗ {env.problem.split(': ')[-1]}", "bold red")
    if read is None:
        return Text("reading…", style="dim")
    db = read.status
    if not db.reachable:  # the whole error is behind e
        why = _DRIVER.sub("", db.error.removeprefix("The database cannot be reached: "))
        return safe_line(f"✗ {_cut(why, REASON_WIDTH)}", "bold red")
    if db.error:
        return safe_line(f"✓ {db.error}", "dim")
    return Text("✓ yes", style="green")


def drift_cell(drift: Drift | None, read: EnvironmentRead | None) -> Text:
    if read is None or not read.status.reachable:
        return Text("")
    if drift is None:
        return Text("checking…", style="dim")
    style = {"matches": "green", "differs": "bold yellow", "error": "red"}.get(drift.state,
                                                                             "dim")
    mark = {"matches": "✓ ", "differs": "⚠ ", "error": "✗ "}.get(drift.state, "")
    return safe_line(f"{mark}{drift.text}", style)


def env_row(env: Environment, read: EnvironmentRead | None, drift: Drift | None,
            run: str = "", indent: bool = False, box: str = "") -> Row:
    """The line of one environment; ``box`` ("[x] " / "[ ] ") while tenants are chosen."""
    name = Text("  " if indent else "")
    name.append(box, style="bold")
    name.append_text(safe_line(env.schema if indent and env.schema else env.name, "bold"))
    if env.protected:
        name.append(" (protected)", style="bold red")
    if run:
        name.append(f" {run}", style="italic")
    db = read.status if read is not None else None
    pending = "" if db is None or not db.reachable else (
        f"{read.pending} pending" if read is not None and read.pending else "up to date")
    url = (db.url if db is not None and db.url else env.display_url) or env.display_x
    cells = (
        name,
        safe_line(db.dialect if db is not None else ""),
        Text(_heads(read), style="bold" if read is not None and read.at_head else ""),
        Text(pending, style="bold" if read is not None and read.pending else ""),
        _reachable(env, read),
        drift_cell(drift, read),
        Text(clock(read.read_at) if read is not None else "", style="dim"),
        safe_line(url, "dim"),
    )
    return Row(env.name, cells)


def group_row(group: str, envs: Sequence[Environment],
              reads: Mapping[str, EnvironmentRead], drifts: Mapping[str, Drift],
              collapsed: bool, chosen: int = 0) -> Row:
    """The line of a group of tenants: how many, where they are, how many differ."""
    mine = [reads[e.name] for e in envs if e.name in reads]
    marker = "▸" if collapsed else "▾"
    name = Text(f"{marker} ", style="bold")
    name.append_text(safe_line(group, "bold"))
    name.append(f" ({len(envs)} tenants" + (f", {chosen} chosen)" if chosen else ")"))
    if any(e.protected for e in envs):
        name.append(" (protected)", style="bold red")
    where = Counter(_heads(r) for r in mine if r.status.reachable)
    revisions = ", ".join(f"{k} x{n}" for k, n in sorted(where.items()))
    behind = sum(1 for r in mine if r.pending)
    down = sum(1 for r in mine if not r.status.reachable)
    reachable = (Text("reading…", style="dim") if len(mine) < len(envs) else
                 Text(f"✗ {down} unreachable", style="bold red") if down else
                 Text("✓ all", style="green"))
    differ = sum(1 for e in envs if drifts.get(e.name, Drift("", "")).state == "differs")
    known = sum(1 for e in envs if e.name in drifts)
    drift = (Text("checking…", style="dim") if known < len(mine) else
             Text(f"⚠ {differ} differ", style="bold yellow") if differ else
             Text("✓ all alike", style="green"))
    dialects = {r.status.dialect for r in mine if r.status.dialect}
    url = next((r.status.url for r in mine if r.status.url), envs[0].display_url)
    cells = (
        name, Text(", ".join(sorted(dialects))), Text(revisions),
        Text(f"{behind} behind" if behind else ("up to date" if mine else "")),
        reachable, drift,
        Text(clock(max(r.read_at for r in mine)) if mine else "", style="dim"),
        safe_line(url, "dim"),
    )
    return Row(f"group:{group}", cells)


def build_rows(environments: Sequence[Environment], reads: Mapping[str, EnvironmentRead],
               drifts: Mapping[str, Drift], collapsed: set[str],
               runs: Mapping[str, str], chosen: frozenset[str] = frozenset()) -> list[Row]:
    """Every row in configuration order; tenants after their group's line, boxed while
    some of their group are ``chosen``."""
    rows: list[Row] = []
    done: set[str] = set()
    for env in environments:
        if not env.group:
            rows.append(env_row(env, reads.get(env.name), drifts.get(env.name),
                                runs.get(env.name, "")))
            continue
        if env.group in done:
            continue
        done.add(env.group)
        members = [e for e in environments if e.group == env.group]
        count = sum(1 for e in members if e.name in chosen)
        rows.append(group_row(env.group, members, reads, drifts, env.group in collapsed,
                              count))
        if env.group not in collapsed:
            rows.extend(env_row(e, reads.get(e.name), drifts.get(e.name),
                                runs.get(e.name, ""), indent=True,
                                box=("[x] " if e.name in chosen else "[ ] ") if count else "")
                        for e in members)
    return rows
