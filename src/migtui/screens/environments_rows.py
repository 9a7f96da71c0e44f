"""The rows of the environments screen: one per environment, tenants under their group.

Everything here is text from files and databases (names, URLs, errors): it is shown as
rich ``Text``, never markup, with control characters made visible.
"""

from __future__ import annotations

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
# When the table is wider than the screen, these columns give up width, one after
# another, down to the least width named (the whole text stays behind e)...
SHRINK = (("Drift", 20), ("Revision", 20), ("Environment", 18), ("URL", 16),
          ("Pending", 16), ("Reachable", 16), ("Drift", 12), ("Revision", 12),
          ("Environment", 14), ("URL", 12), ("Pending", 11), ("Reachable", 13))
# ...after these are left out, one by one, while even the least widths do not fit.
DROP = ("Read", "Dialect", "URL")
_LEAST = {name: least for name, least in reversed(SHRINK)}

# Why a database was not read, in a word or two (e shows the whole error).
_WHY = {"connection": "✗ unreachable", "login": "✗ login refused", "lock": "✗ locked",
        "env.py": "✗ env.py failed",
        "config": "✗ cannot open", "version table": "✗ alembic_version unreadable"}


def clock(timestamp: float) -> str:
    """When an environment was read, as the Read column shows it."""
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


@dataclass(frozen=True)
class Row:
    """One line of the table: an environment, or a group of tenants."""

    key: str  # the environment's name, or "group:NAME"
    cells: tuple[Text, ...]

    def __post_init__(self) -> None:
        for cell in self.cells:  # one line each, cut with … in a narrow column
            cell.no_wrap, cell.overflow = True, "ellipsis"


def fit_columns(rows: Sequence[Row], available: int, padding: int = 1
                ) -> list[tuple[int, int]]:
    """(column index, width) of the columns to show in ``available`` cells: every
    column as wide as its widest cell where that fits, else narrower (SHRINK), else
    fewer (DROP)."""
    natural = [max([len(name)] + [row.cells[i].cell_len for row in rows])
               for i, name in enumerate(COLUMNS)]
    shown = list(range(len(COLUMNS)))

    def least(i: int) -> int:
        return min(natural[i], _LEAST.get(COLUMNS[i], natural[i]))

    for name in DROP:
        if sum(least(i) + 2 * padding for i in shown) <= available:
            break
        shown.remove(COLUMNS.index(name))
    widths = {i: natural[i] for i in shown}
    for name, width in SHRINK:
        i = COLUMNS.index(name)
        excess = sum(w + 2 * padding for w in widths.values()) - available
        if excess <= 0:
            break
        if i in widths:
            widths[i] = max(min(width, natural[i]), widths[i] - excess)
    return [(i, widths[i]) for i in shown]


def _heads(read: EnvironmentRead | None) -> str:
    if read is None:
        return "…"
    if not read.status.reachable:
        return "?"
    return ", ".join(h[:12] for h in read.status.current_heads) or "base"


def _reachable(env: Environment, read: EnvironmentRead | None) -> Text:
    if env.problem:  # (an unset url_env variable)
        return Text("✗ no URL", style="bold red")
    if read is None:
        return Text("reading…", style="dim")
    db = read.status
    if not db.reachable:
        return Text(_WHY.get(db.cause, "✗ error"), style="bold red")
    if db.unused_url:  # (env.py connects elsewhere: e says where; no writes)
        return Text("⚠ url not used", style="bold red")
    if db.error:  # a SQLite file that the first upgrade creates
        return Text("✓ no file yet", style="dim")
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
        "⚠ ? pending: unknown revision" if read is not None and read.snapshot.pending_unknown
        else f"{read.pending} pending" if read is not None and read.pending else "up to date")
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


def _group_drift(states: list[str], read: int) -> Text:
    """The Drift of a group: how many tenants differ, match, or had nothing to be
    compared with (no other database on their revision)."""
    count = Counter(states)
    if len(states) < read:
        return Text("checking…", style="dim")
    if count["differs"]:
        return Text(f"⚠ {count['differs']} differ", style="bold yellow")
    if count["error"]:
        return Text(f"✗ {count['error']} not checked", style="red")
    if count["matches"] and count["matches"] == len(states):
        return Text("✓ all match", style="green")
    if count["matches"]:
        return Text(f"✓ {count['matches']} match, {len(states) - count['matches']} not "
                    "compared", style="green")
    return Text("not compared" if states else "", style="dim")


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
    drift = _group_drift([drifts[e.name].state for e in envs if e.name in drifts], len(mine))
    dialects = {r.status.dialect for r in mine if r.status.dialect}
    # Tenants may each have a database (env.py picks it from -x): one URL only if shared.
    urls = {(reads[e.name].status.url if e.name in reads else "") or e.display_url
            for e in envs}
    known = urls - {""}
    url = (f"{len(known)} databases" if len(known) > 1 else
           known.pop() if known and "" not in urls else "")
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
