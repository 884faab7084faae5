"""Where local runs keep their files: a configured directory, beside a DuckDB state, or per user.

A path is never made from the text of a PostgreSQL URL (it may carry a password): a
URL state gets a per-user directory named by a hash of the URL without its
credentials. Directories made here are private to their owner (0700): run logs may
hold anything a job prints.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reconciler.state.location import is_postgres

ENV = "RECONCILER_RUNS_DIR"
# query parameters of a PostgreSQL URL that name or prove who connects, not what to
CREDENTIAL_PARAMS = frozenset({"user", "password", "sslpassword", "passfile"})
PRIVATE = 0o700


def credential_free(url: str) -> str:
    """The URL without user, password or credential parameters (what names the state)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in CREDENTIAL_PARAMS
    )
    return urlunsplit(parts._replace(netloc=host, query=urlencode(query)))


def user_runs_root() -> Path:
    """The per-user base of run directories (``$XDG_STATE_HOME/reconciler/runs``)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "reconciler" / "runs"


def runs_dir_for(state: str, configured: str | os.PathLike[str] | None = None) -> Path:
    """The runs directory of a state: ``configured`` (or ``$RECONCILER_RUNS_DIR``), else
    ``<file stem>-runs`` beside a DuckDB file, else a per-user directory named by a hash
    of the credential-free URL."""
    chosen = configured if configured is not None else os.environ.get(ENV) or None
    if chosen is not None:
        return Path(chosen).expanduser().absolute()
    if is_postgres(state):
        digest = hashlib.sha256(credential_free(state).encode()).hexdigest()[:16]
        return user_runs_root() / f"pg-{digest}"
    p = Path(state)
    return (p.parent / f"{p.stem}-runs").absolute()


def make_private_dir(path: Path) -> None:
    """Create ``path`` (missing parents too) readable by its owner only; an existing
    directory is left as it is (it may be a shared one the user configured: the run
    directories inside are private anyway)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE)
