"""The sample's SQLModel models: users who write posts.

Change a field here and press `a` in migtui to see what autogenerate would write.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    """Someone who can sign in and write posts."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    email: str = Field(index=True, unique=True)
    ssn: str | None = Field(default=None, max_length=11)
    created_at: datetime | None = Field(default=None)


class Post(SQLModel, table=True):
    """A piece of writing by one user."""

    id: int | None = Field(default=None, primary_key=True)
    title: str
    body: str
    user_id: int = Field(foreign_key="user.id")
