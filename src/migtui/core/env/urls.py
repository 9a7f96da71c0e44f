"""Database URLs and other text for display: never show a password or a token.

Secrets hide in several places: the password of a URL, query-string parameters of a URL
(``?password=…``, ``sslpassword``, ``token`` …), ``-x key=value`` arguments for env.py,
and any of those repeated inside an error message or a traceback. Every secret seen
once is remembered, so the same string is removed from any later text too.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url

# Keys whose values are secrets, wherever they appear as key=value.
_SECRET_KEY = (
    r"(?:[\w.-]*(?:password|passwd|secret|token|credential)s?|pwd|pass|sslkey"
    r"|api[_-]?key|access[_-]?key|private[_-]?key|auth)"
)
# user:password@ inside any URL-looking text (tracebacks, driver messages).
_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@")
# key=value and key: value (quoted or bare, up to a separator).
_SECRET_KV = re.compile(
    rf"(?i)(?<![\w-])(?P<key>{_SECRET_KEY})(?P<sep>\s*[=:]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;,)'\"]+)"
)
_MASK = "***"

_known_secrets: set[str] = set()


def is_secret_key(key: str) -> bool:
    """Whether a parameter or argument named ``key`` carries a secret."""
    return re.fullmatch(_SECRET_KEY, key.strip(), re.IGNORECASE) is not None


def _remember(value: str | None) -> None:
    if value and len(value) >= 3 and value != _MASK:
        _known_secrets.add(value)
        decoded = unquote(value)
        if decoded != value and len(decoded) >= 3:
            _known_secrets.add(decoded)
        _known_secrets.add(quote(value, safe=""))


def remember_secret(url: URL | str | None) -> None:
    """Remember a URL's password and secret query values so that scrub_secrets removes
    them from any text."""
    if url is None:
        return
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:
        return
    if parsed.password:
        _remember(str(parsed.password))
    for key, value in parsed.query.items():
        if is_secret_key(key):
            for one in (value,) if isinstance(value, str) else value:
                _remember(str(one))


def mask_url(url: URL | str | None) -> str:
    """The URL as text with its password and secret query values replaced by ***."""
    if url is None or url == "":
        return ""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:
        return scrub_secrets(str(url))
    remember_secret(parsed)
    query = {k: (_MASK if is_secret_key(k) else v) for k, v in parsed.query.items()}
    return scrub_secrets(parsed.set(query=query).render_as_string(hide_password=True))


def mask_x_argument(argument: str) -> str:
    """A ``-x key=value`` argument for display: a URL value masked, a secret key's value
    hidden (and remembered, so errors that repeat it are scrubbed too)."""
    key, sep, value = argument.partition("=")
    if not sep:
        return scrub_secrets(argument)
    if is_secret_key(key):
        _remember(value)
        return f"{key}={_MASK}"
    if "://" in value:
        return f"{key}={mask_url(value)}"
    return scrub_secrets(argument)


def scrub_secrets(text: str) -> str:
    """Remove secrets from free text: URL credentials, key=value secrets, known secrets."""
    text = _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{_MASK}@", text)
    text = _SECRET_KV.sub(lambda m: f"{m['key']}{m['sep']}{_MASK}", text)
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text
