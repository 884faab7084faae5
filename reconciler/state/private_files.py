"""A DuckDB state and its write-ahead log are readable by their owner only (0600).

DuckDB creates both with the process's umask (usually 0644), and the log comes and
goes with checkpoints, so the modes are narrowed after each open and each commit: a
stat per file when nothing needs doing. A directory made for the state is 0700, which
also covers the moment between a log's creation and its narrowing.
"""

from __future__ import annotations

import os

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_state_dir(parent: str) -> None:
    os.makedirs(parent, mode=PRIVATE_DIR, exist_ok=True)


def narrow(path: str) -> None:
    """Drop group and other bits of the state file and its log, if this user owns them."""
    for name in (path, path + ".wal"):
        try:
            info = os.stat(name)
            if info.st_mode & 0o077 and info.st_uid == os.getuid():
                os.chmod(name, PRIVATE_FILE)
        except OSError:
            pass  # gone meanwhile (a checkpoint), or not ours to change
