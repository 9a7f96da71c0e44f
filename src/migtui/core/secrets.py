"""Secrets in free text: which keys carry them, the ones seen so far, and scrubbing.

Secrets hide in several places: the password of a URL, query-string parameters of a URL
(``?password=…``, ``sslpassword``, ``token`` …), ``-x key=value`` arguments for env.py,
and any of those repeated inside an error message or a traceback. Every secret seen
once is remembered (``remember``), so the same string is removed from any later text.
This module is a leaf (no SQLAlchemy): errors, logs and the URL helpers all use it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

# Keys whose values are secrets, wherever they appear as key=value.
# (Prefixes and schemes are bounded, and a scheme starts where a word does: unbounded,
# each start in a long run of word characters scanned the rest of it, and a line of
# 100 KB that env.py printed took tens of seconds to scrub.)
_SECRET_KEY = (
    r"(?:[\w.-]{0,64}(?:password|passwd|secret|token|credential)s?"
    r"|(?:[\w.-]{0,64}[_.-])?(?:pw|pwd|pass)|sslkey"
    r"|api[_-]?key|access[_-]?key|private[_-]?key|auth)"
)
# user:password@ inside any URL-looking text (tracebacks, driver messages).
_CREDENTIALS = re.compile(
    r"(?<![\w+.-])(?P<scheme>[a-zA-Z][\w+.-]{0,63}://)"
    r"(?P<user>[^:/@\s]{0,1024}):(?P<pw>[^@\s]{0,1024})@")
# key=value and key: value (quoted or bare, up to a separator).
_SECRET_KV = re.compile(
    rf"(?i)(?<![\w-])(?P<key>{_SECRET_KEY})(?P<sep>\s*[=:]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;,)'\"]+)"
)
MASK = "***"

_known_secrets: set[str] = set()


def is_secret_key(key: str) -> bool:
    """Whether a parameter or argument named ``key`` carries a secret."""
    return re.fullmatch(_SECRET_KEY, key.strip(), re.IGNORECASE) is not None


def remember(value: str | None) -> None:
    if value and len(value) >= 3 and value != MASK:
        _known_secrets.add(value)
        decoded = unquote(value)
        if decoded != value and len(decoded) >= 3:
            _known_secrets.add(decoded)
        _known_secrets.add(quote(value, safe=""))


def scrub_secrets(text: str) -> str:
    """Remove secrets from free text: URL credentials, key=value secrets, known secrets."""
    text = _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _SECRET_KV.sub(_masked_value, text)
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _masked_value(match: re.Match[str]) -> str:
    # MySQL's "Access denied for user 'u'@'h' (using password: YES)" says whether a
    # password was sent, not which: masking YES would look like hiding one.
    if match["value"] in ("YES", "NO") and match.string[:match.start()].endswith("using "):
        return match[0]
    return f"{match['key']}{match['sep']}{MASK}"
