"""What the user decided about a diff: operations rejected, renames accepted, casts added.

Plain data, shared by the screen (which edits it) and the comparison's child process
(which applies it to autogenerate's directives, ``migtui.core.autogen.edit``). An
operation is named by its key (kind, schema, table, name), so a choice survives a new
comparison for as long as the operation it is about is still detected.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class RenameCandidate:
    """A drop and an add that may be one rename, with the evidence for it."""

    key: str  # "rename column|schema|table|old->new" or "rename table|schema|old->new"
    what: str  # "column" or "table"
    table: str  # the table (for a table rename: the old name)
    schema: str | None
    old: str
    new: str
    drop_key: str  # the operations the rename replaces
    add_key: str
    old_type: str = ""
    new_type: str = ""
    old_nullable: bool | None = None
    new_nullable: bool | None = None
    old_position: int | None = None  # 1-based column position in the table
    new_position: int | None = None
    rows: int | None = None  # rows in the table
    values: int | None = None  # non-NULL values in the old column (a table: its rows)
    python: str = ""  # the op.* call the rename writes (upgrade)
    warning: str = ""  # e.g. the type narrows
    carried: tuple[str, ...] = ()  # drops and adds of keys the rename keeps (not written)

    @property
    def label(self) -> str:
        return f"{self.old} → {self.new}"

    @property
    def replaces(self) -> tuple[str, ...]:
        """The operations an accepted rename stands for (none of them is written)."""
        return (self.drop_key, self.add_key, *self.carried)


@dataclass(frozen=True)
class Choices:
    """The user's edits of the diff; the default writes what autogenerate writes."""

    rejected: frozenset[str] = field(default_factory=frozenset)  # operation keys
    renames: frozenset[str] = field(default_factory=frozenset)  # RenameCandidate keys
    casts: frozenset[str] = field(default_factory=frozenset)  # type changes given a USING

    @property
    def is_default(self) -> bool:
        return not (self.rejected or self.renames or self.casts)

    def toggled(self, attribute: str, key: str) -> Choices:
        """These choices with ``key`` added to or removed from one of the three sets."""
        current: frozenset[str] = getattr(self, attribute)
        return replace(self, **{attribute: current ^ {key}})

    def to_dict(self) -> dict[str, Any]:
        return {"rejected": sorted(self.rejected), "renames": sorted(self.renames),
                "casts": sorted(self.casts)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Choices:
        data = data or {}
        return cls(frozenset(data.get("rejected", ())), frozenset(data.get("renames", ())),
                   frozenset(data.get("casts", ())))

    def still_applying(self, operation_keys: set[str], rename_keys: set[str],
                       cast_keys: set[str]) -> Choices:
        """Only the choices about operations, renames and casts that a new diff still has."""
        return Choices(self.rejected & operation_keys, self.renames & rename_keys,
                       self.casts & cast_keys)


def covered_by_renames(renames: tuple[RenameCandidate, ...], choices: Choices) -> set[str]:
    """Keys of the operations that an accepted rename replaces."""
    return {key for r in renames if r.key in choices.renames for key in r.replaces}
