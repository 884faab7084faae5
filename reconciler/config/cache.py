"""A cache of validated pipeline files, so planning a fleet skips YAML and validation.

Parsing and validating 10^4 files takes seconds; reading the cache takes a fraction of
one. An entry keeps what planning needs (id, text, planner spec, flat config), not the
pydantic model: that is validated again from the text when something asks for it.

Entries are kept lean, since reading them is most of a warm pass's config cost: the
flat config is not stored (it is ``config_json`` parsed, when something asks), and
equal schedules and retry policies are stored once, shared by the specs that have them.

An entry is trusted when the file's size, mtime, ctime and inode are unchanged and the
file was already two seconds old when it was cached (a file rewritten within the same
clock tick keeps its mtime; git calls these "racily clean"). Otherwise the file is
read and its SHA-256 compared, which also keeps the cache useful after a fresh
checkout. The cache lives in the user's cache directory, never in the repository: a
pull request must not be able to plant one. ``RECONCILER_CACHE_DIR=off`` disables it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import __version__
from reconciler.config.file_checks import read_checked
from reconciler.core.spec import PipelineSpec, RetryPolicy, Schedule

if TYPE_CHECKING:
    from reconciler.config.loading import LoadedPipeline

FORMAT = 3
_RACY_NS = 2_000_000_000
KEEP = 64  # cache files kept per cache dir (one per config dir), least recently used go
_OFF = ("", "0", "off", "false", "no", "none")
# the code that decides what a file validates to: every module of ``reconciler/config``
# plus the planner's spec types. A change to any (a new default, a new key, a new check)
# must not be answered from an old cache.
_DEPENDS_ON = ("core/spec.py", "core/durations.py", "core/config_diff.py")


@dataclass(frozen=True)
class Entry:
    """One valid file as it was when cached."""

    stat: tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
    cached_at_ns: int
    digest: str
    pipeline_id: str
    text: str
    spec: PipelineSpec
    config_json: str
    notifies: bool  # has notification channels (``flat["notifications"]`` not empty)

    def trusted(self, stat: tuple[int, int, int, int]) -> bool:
        """Unchanged by its metadata alone (see the module docstring)."""
        return stat == self.stat and self.stat[1] < self.cached_at_ns - _RACY_NS


def cache_dir() -> Path | None:
    """Where caches live; None when disabled."""
    value = os.environ.get("RECONCILER_CACHE_DIR")
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reconciler"


@cache
def _fingerprint() -> str:
    """This code's identity: a cache written by other code is not read."""
    digest = hashlib.sha256(f"{FORMAT}/{__version__}/{sys.version}".encode())
    package = Path(__file__).resolve().parent.parent
    config = sorted(p.relative_to(package).as_posix() for p in (package / "config").glob("*.py"))
    for name in (*config, *_DEPENDS_ON):
        digest.update(name.encode())
        with suppress(OSError):
            digest.update((package / name).read_bytes())
    # pydantic's version file, read rather than imported: a pass whose pipelines all
    # come from the cache never loads pydantic
    found = importlib.util.find_spec("pydantic")
    if found is not None and found.origin:
        with suppress(OSError):
            digest.update((Path(found.origin).parent / "version.py").read_bytes())
    return digest.hexdigest()


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


class ConfigCache:
    """The cache of one config directory: file name -> ``Entry``."""

    def __init__(self, config_dir: Path, root: Path | None) -> None:
        self.path: Path | None = None
        if root is not None:
            where = hashlib.sha256(str(config_dir.resolve()).encode()).hexdigest()[:24]
            self.path = root / f"config-{where}.pickle"
        self.old: dict[str, Entry] = self._read()
        self.new: dict[str, Entry] = {}
        self.changed = False

    @classmethod
    def open(cls, config_dir: Path) -> ConfigCache:
        return cls(config_dir, cache_dir())

    def _read(self) -> dict[str, Entry]:
        if self.path is None:
            return {}
        try:
            with self.path.open("rb") as handle:
                fingerprint, entries = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
            return {}
        except Exception:  # an old or foreign file: rebuilt, never an error
            return {}
        if fingerprint != _fingerprint() or not isinstance(entries, dict):
            return {}
        if not all(isinstance(e, Entry) for e in entries.values()):
            return {}  # damaged in a way the fingerprint cannot tell
        with suppress(OSError):  # used now: the last to be pruned
            os.utime(self.path)
        return entries

    def get(self, name: str, stat: tuple[int, int, int, int], path: Path) -> Entry | None:
        """The entry for an unchanged file; reads and hashes the file when unsure."""
        entry = self.old.get(name)
        if entry is None:
            return None
        if not entry.trusted(stat):
            read = read_checked(path)
            if not isinstance(read, tuple):
                return None
            digest = hashlib.sha256(read[0]).hexdigest()
            if digest != entry.digest:
                return None
            # same bytes: keep it, with the file's new metadata
            entry = Entry(stat, time.time_ns(), *_rest(entry))
            self.changed = True
        self.new[name] = entry
        return entry

    def put(self, name: str, stat: tuple[int, int, int, int], pipeline: LoadedPipeline) -> None:
        """Remember a file that loaded without problems."""
        self.new[name] = Entry(
            stat,
            time.time_ns(),
            pipeline.digest,
            pipeline.id,
            pipeline.text,
            pipeline.spec,
            pipeline.config_json,
            pipeline.notifies,
        )
        self.changed = True

    def save(self) -> None:
        """Write the entries seen this time (files gone are dropped); best effort."""
        if self.path is None or not (self.changed or self.new.keys() != self.old.keys()):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".config-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump((_fingerprint(), _shared(self.new)), handle, protocol=5)
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            _prune(self.path.parent)
        except OSError:
            pass  # a read-only home or a full disk: planning works without the cache


def _prune(root: Path, keep: int = KEEP) -> None:
    """Keep the ``keep`` most recently used cache files: every temporary or deleted
    config dir leaves one behind, and nothing else would ever remove it."""
    found: list[tuple[float, Path]] = []
    for path in root.glob("config-*.pickle"):
        with suppress(OSError):
            found.append((path.stat().st_mtime, path))
    for _, path in sorted(found, reverse=True)[keep:]:
        with suppress(OSError):
            path.unlink()


def _rest(entry: Entry) -> tuple[Any, ...]:
    return (
        entry.digest,
        entry.pipeline_id,
        entry.text,
        entry.spec,
        entry.config_json,
        entry.notifies,
    )


def _shared(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The entries with equal schedules and retry policies made one object each, which
    pickle then writes once: a fleet has a few of each, and reading 10^4 copies of
    them was half the time spent reading the cache."""
    schedules: dict[Schedule, Schedule] = {}
    retries: dict[RetryPolicy, RetryPolicy] = {}
    out: dict[str, Entry] = {}
    for name, entry in entries.items():
        spec = entry.spec
        schedule = schedules.setdefault(spec.schedule, spec.schedule)
        retry = retries.setdefault(spec.retry, spec.retry)
        if schedule is not spec.schedule or retry is not spec.retry:
            spec = replace(spec, schedule=schedule, retry=retry)
            entry = replace(entry, spec=spec)
        out[name] = entry
    return out
