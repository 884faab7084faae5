"""What credentials look like, and masking them in any text a message echoes.

``checks`` refuses these shapes in a pipeline file; ``mask`` keeps them out of every
message that quotes what a file holds (a value that failed to validate, a file that
is not YAML at all), so an error or a pull-request annotation never shows a secret.
"""

from __future__ import annotations

import re
from functools import cache

# Keys that must never hold a value in YAML, and the key to use instead.
SECRET_KEYS = {
    "token": "token_env",
    "api_token": "token_env",
    "access_token": "token_env",
    "api_key": "token_env",
    "apikey": "token_env",
    "password": "password_env",
    "passwd": "password_env",
    "secret": "secret_env",
    "headers": "headers_env",
    "webhook_url": "url_env",
}
# Shapes of well-known credentials wherever they appear, and the key that names the
# environment variable to hold them instead.
SECRET_PATTERNS: list[tuple[str, str, str]] = [
    (r"\bdapi[0-9a-f]{32}\b", "a Databricks token", "token_env"),
    (r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "a Slack token", "token_env"),
    (r"hooks\.slack\.com/services/", "a Slack webhook URL", "url_env"),
    (r"\bgh[pousr]_[A-Za-z0-9]{30,}", "a GitHub token", "token_env"),
    (r"-----BEGIN [A-Z ]*PRIVATE KEY-----", "a private key", "token_env"),
    (r"\bAKIA[0-9A-Z]{16}\b", "an AWS access key", "token_env"),
    (r"(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{16,})", "a bearer token", "headers_env"),
    (
        r"(?i:[?&](?:token|access_token|api_key|apikey|sig|signature)=[^&\s]{8,})",
        "a credential in a URL query",
        "headers_env",
    ),
]


@cache
def _masks() -> list[tuple[re.Pattern[str], str]]:
    """Credential-looking parts of a text whatever their length, each with its stand-in
    (compiled on first use: a pass whose files all come from the cache never needs them)."""
    return [
        # user:password@ (or a token as the user) in any URL
        (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/?#@\s'\"]+@"), r"\1***@"),
        # query or fragment parameters named like credentials: ?api_key=abc123
        (
            re.compile(
                r"(?i)([?&;#][a-z0-9_.-]*(?:token|key|secret|pass|pwd|sig|auth|session|credential)"
                r"[a-z0-9_.-]*=)[^&;#\s'\"]+"
            ),
            r"\1***",
        ),
        # every well-known token shape: its first four characters stay, to say which
        *((re.compile(pattern), "") for pattern, _, _ in SECRET_PATTERNS),
        # long random-looking runs: letters of both cases and digits, or long hex
        (
            re.compile(
                r"\b(?=[A-Za-z0-9_+/=-]*[0-9])(?=[A-Za-z0-9_+/=-]*[a-z])"
                r"(?=[A-Za-z0-9_+/=-]*[A-Z])[A-Za-z0-9_+/=-]{24,}"
            ),
            "",
        ),
        (re.compile(r"\b[0-9a-fA-F]{32,}\b"), ""),
    ]


def _keep_prefix(match: re.Match[str]) -> str:
    return match.group(0)[:4] + "***"


def mask(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``***``."""
    for pattern, replacement in _masks():
        text = pattern.sub(replacement or _keep_prefix, text)
    return text
