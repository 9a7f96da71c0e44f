"""Database URLs for display: never show a password."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url

# user:password@ inside any URL-looking text (tracebacks, driver messages).
_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@")
_PASSWORD_KV = re.compile(r"(?i)(password\s*=\s*)('[^']*'|\"[^\"]*\"|\S+)")

_known_secrets: set[str] = set()


def remember_secret(url: URL | str | None) -> None:
    """Remember a URL's password so that scrub_secrets removes it from any text."""
    if url is None:
        return
    try:
        password = make_url(url).password if isinstance(url, str) else url.password
    except Exception:
        return
    if password and len(str(password)) >= 3:
        _known_secrets.add(str(password))


def mask_url(url: URL | str | None) -> str:
    """The URL as text with its password replaced by ***."""
    if url is None or url == "":
        return ""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:
        return scrub_secrets(str(url))
    remember_secret(parsed)
    return parsed.render_as_string(hide_password=True)


def scrub_secrets(text: str) -> str:
    """Remove passwords from free text: URL credentials, password=..., known passwords."""
    text = _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    text = _PASSWORD_KV.sub(lambda m: f"{m.group(1)}***", text)
    for secret in _known_secrets:
        text = text.replace(secret, "***")
    return text
