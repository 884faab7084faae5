"""What ``--state`` names: a DuckDB file path or a PostgreSQL URL, checked before use.

A value that starts with ``scheme://`` is a URL, never a file path: ``postgresql://``
and ``postgres://`` (in any case, with or without a driver suffix such as
``postgresql+psycopg://``) name a PostgreSQL state; any other scheme is refused rather
than taken for a file name. A PostgreSQL URL names its host (or ``?host=``) and its
database: libpq's defaults are never used silently. A new DuckDB state is created only
in an existing directory, except a missing ``.reconciler/`` directory (the default's),
which is created.
"""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import urlsplit

from reconciler.errors import StateError

DEFAULT_STATE = ".reconciler/state.duckdb"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@")
_POSTGRES = ("postgresql", "postgres")
log = logging.getLogger("reconciler.state")


def redact(text: str) -> str:
    """``text`` with the password of any URL in it replaced (works on malformed URLs too)."""
    return _PASSWORD.sub(r"\1:***@", text)


def is_postgres(location: str) -> bool:
    """Whether ``location`` is a PostgreSQL URL (the scheme in any case, any driver)."""
    found = _SCHEME.match(location)
    return found is not None and found.group(1).lower().partition("+")[0] in _POSTGRES


def normalise(location: str) -> str:
    """The location to use: a file path as given, a PostgreSQL URL in the form libpq reads.

    Raises ``StateError`` (one line, password redacted) for a URL of another scheme or
    one that cannot be parsed.
    """
    found = _SCHEME.match(location)
    if found is None:
        return location
    scheme = found.group(1)
    if not is_postgres(location):
        raise StateError(
            f"--state {redact(location)}: unsupported scheme {scheme}://; expected a DuckDB "
            "file path or a postgresql:// URL"
        )
    url = "postgresql://" + location[found.end() :]
    try:
        parts = urlsplit(url)
        _ = parts.port  # (parses the port: "abc" or 99999 raise here)
    except ValueError as exc:
        raise StateError(f"--state {redact(location)}: not a valid URL: {exc}") from exc
    from psycopg import Error
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StateError(f"--state {redact(location)}: not a valid URL: {first}") from exc
    # libpq would fill a missing host or database from PGHOST, PGDATABASE or the user
    # name: a state URL says where the state is itself
    missing = [
        what
        for what, keys in (("host", ("host", "hostaddr")), ("database name", ("dbname",)))
        if not any(str(params.get(key) or "").strip() for key in keys)
    ]
    if missing:
        raise StateError(
            f"--state {redact(location)}: the URL has no {' and no '.join(missing)}; write "
            "postgresql://USER@HOST[:PORT]/DATABASE (or ?host=/socket/directory)"
        )
    return url


def check_new_file(path: str) -> bool:
    """Before a DuckDB state is created at ``path``: whether its directory must be made.

    Only a missing ``.reconciler`` directory (the default's, in a fresh clone) inside an
    existing directory is made; any other missing directory is a typo far more often
    than a wish, and a new empty state there would run everything again.
    """
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(parent):
        return False
    default_dir = os.path.basename(os.path.dirname(DEFAULT_STATE))
    if os.path.basename(parent) == default_dir and os.path.isdir(os.path.dirname(parent)):
        return True
    raise StateError(
        f"state file {path}: its directory {parent} does not exist; create it first, or "
        "fix --state (a new state is only created in an existing directory)"
    )


def announce_new(path: str) -> None:
    log.warning("creating a new state at %s", path)
