"""The graph model and the lane layout on synthetic revisions (no files involved)."""

from __future__ import annotations

import time

from migtui.core.revisions.files import FileRecord
from migtui.core.revisions.graph import build_graph
from migtui.core.revisions.headers import Header
from migtui.core.revisions.layout import layout


def synthetic_records(count: int, branch_every: int = 50) -> list[FileRecord]:
    """``count`` revision headers: a line with a fork of two short branches and a merge
    every ``branch_every`` revisions (as projectkit/genproject.py lays them out)."""
    records: list[FileRecord] = []
    head: str | None = None
    i = 0

    def add(down: str | tuple[str, ...] | None) -> str:
        nonlocal i
        rev = f"{i:012x}"
        doc = f"revision {i}\n\nRevision ID: {rev}\nCreate Date: 2024-01-01 00:00:00\n"
        records.append(FileRecord(f"/synthetic/{rev}.py", (0, 0),
                                  header=Header(rev, down, None, None, doc)))
        i += 1
        return rev

    while i < count:
        if head is not None and i % branch_every == 0 and count - i >= 7:
            left = add(head)
            left = add(left)
            right = add(head)
            right = add(right)
            head = add((left, right))
        else:
            head = add(head)
    return records


def time_model_and_layout(count: int, runs: int) -> tuple[list[float], list[float]]:
    """Seconds to build the RevisionGraph and to lay it out, per run."""
    records = synthetic_records(count)
    model, lay = [], []
    for _ in range(runs):
        started = time.perf_counter()
        graph = build_graph(records)
        middle = time.perf_counter()
        rows = layout([(r.revision, r.down_revisions) for r in graph])
        done = time.perf_counter()
        assert len(rows) == len(graph) == count and not graph.problems
        model.append(middle - started)
        lay.append(done - middle)
    return model, lay
