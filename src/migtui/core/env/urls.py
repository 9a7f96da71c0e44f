"""Database URLs for display: never show a password, a token or a secret key.

What counts as a secret, and scrubbing free text, live in :mod:`migtui.core.secrets`;
here URLs are parsed (SQLAlchemy's ``make_url``) so that every secret part is masked and
remembered.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from migtui.core.libraries import importing
from migtui.core.secrets import MASK, is_secret_key, remember, scrub_secrets

if TYPE_CHECKING:  # SQLAlchemy is imported when a URL is parsed, not before
    from sqlalchemy.engine import URL

__all__ = ["database_identity", "mask_url", "mask_x_argument", "remember_secret",
           "same_database", "scrub_secrets"]


def _make_url(url: str) -> URL:
    """SQLAlchemy's URL parser (imported on first use, under the one import lock)."""
    with importing():
        from sqlalchemy.engine import make_url
    return make_url(url)


def remember_secret(url: URL | str | None) -> None:
    """Remember a URL's password and secret query values so that scrub_secrets removes
    them from any text."""
    if url is None:
        return
    try:
        parsed = _make_url(url) if isinstance(url, str) else url
    except Exception:
        return
    if parsed.password:
        remember(str(parsed.password))
    for key, value in parsed.query.items():
        if is_secret_key(key):
            for one in (value,) if isinstance(value, str) else value:
                remember(str(one))


def mask_url(url: URL | str | None) -> str:
    """The URL as text with its password and secret query values replaced by ***."""
    if url is None or url == "":
        return ""
    try:
        parsed = _make_url(url) if isinstance(url, str) else url
    except Exception:
        return scrub_secrets(str(url))
    remember_secret(parsed)
    query = {k: (MASK if is_secret_key(k) else v) for k, v in parsed.query.items()}
    return scrub_secrets(parsed.set(query=query).render_as_string(hide_password=True))


def mask_x_argument(argument: str) -> str:
    """A ``-x key=value`` argument for display: a URL value masked, a secret key's value
    hidden (and remembered, so errors that repeat it are scrubbed too)."""
    key, sep, value = argument.partition("=")
    if not sep:
        return scrub_secrets(argument)
    if is_secret_key(key):
        remember(value)
        return f"{key}={MASK}"
    if "://" in value:
        return f"{key}={mask_url(value)}"
    return scrub_secrets(argument)




def same_database(asked: str, connected: str, folder: str) -> bool:
    """Whether ``connected`` (the URL env.py connected with) names the database that
    ``asked`` does: the same backend, host, port and database (an SQLite path made
    absolute from ``folder``), whatever the driver, user or query. True when either
    cannot be parsed (nothing to tell)."""
    try:
        one, other = _make_url(asked), _make_url(connected)
    except Exception:
        return True

    def place(url: URL) -> tuple[object, ...]:
        name = url.database or ""
        if (url.get_backend_name() == "sqlite" and name and name != ":memory:"
                and not name.startswith("file:")):
            name = os.path.normpath(os.path.join(folder, name))
        return url.get_backend_name(), url.host or "", url.port, name

    return place(one) == place(other)


def database_identity(url: str, folder: str | None = None) -> tuple[str, str]:
    """(masked URL, database name) of a database, to remember things about it.

    With ``folder``, a relative SQLite path is made absolute from it (env.py opened it
    relative to the working folder), so two projects' ``sqlite:///app.db`` differ."""
    masked = mask_url(url)
    try:
        parsed = _make_url(masked)
    except Exception:
        return masked, ""
    name = parsed.database or ""
    if (folder and parsed.get_backend_name() == "sqlite" and name and name != ":memory:"
            and not name.startswith("file:") and not os.path.isabs(name)):
        name = os.path.normpath(os.path.join(folder, name))
    return masked, name
