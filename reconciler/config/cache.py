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

The file is data only, never code: a header with this code's fingerprint, checked
before anything else is read, then MessagePack decoded by msgspec into the entry
types, which validates every field. A planted or damaged file is ignored, never run.
The cache is used only when the file and its directory belong to the current user and
nobody else may write them (a shared cache directory, a restored CI cache), and the
file is opened without following a link.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import os
import stat as stat_mode
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from reconciler import __version__
from reconciler.config.file_checks import read_checked
from reconciler.core.spec import PipelineSpec

if TYPE_CHECKING:
    from reconciler.config.loading import LoadedPipeline

FORMAT = 6
MAGIC = b"reconciler config cache\n"
SUFFIX = ".msgpack"
_RACY_NS = 2_000_000_000
KEEP = 64  # cache files kept per cache dir (one per config dir), least recently used go
_OFF = ("", "0", "off", "false", "no", "none")
# the code that decides what a file validates to: every module of ``reconciler/config``
# plus the planner's spec types. A change to any (a new default, a new key, a new check)
# must not be answered from an old cache.
_DEPENDS_ON = ("core/spec.py", "core/durations.py", "core/config_diff.py")


@dataclass(frozen=True, kw_only=True)
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
            self.path = root / f"config-{where}{SUFFIX}"
        self.old: dict[str, Entry] = self._read()
        self.new: dict[str, Entry] = {}
        self.changed = False

    @classmethod
    def open(cls, config_dir: Path) -> ConfigCache:
        return cls(config_dir, cache_dir())

    def _read(self) -> dict[str, Entry]:
        if self.path is None or not private_dir(self.path.parent):
            return {}
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return {}
        with os.fdopen(fd, "rb") as handle:
            if not private(os.fstat(handle.fileno())):
                return {}
            if handle.read(len(_header())) != _header():
                return {}  # other code's cache, or not a cache at all: not decoded
            # 10^4 entries are ~10^5 objects that live for the pass: without the
            # collector, decoding takes a third less time
            collecting = gc.isenabled()
            gc.disable()
            try:
                entries = _decoder().decode(handle.read())
            except (msgspec.DecodeError, OSError, ValueError):
                return {}  # damaged (msgspec.ValidationError is a DecodeError)
            finally:
                if collecting:
                    gc.enable()
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
            entry = replace(entry, stat=stat, cached_at_ns=time.time_ns())
            self.changed = True
        self.new[name] = entry
        return entry

    def put(self, name: str, stat: tuple[int, int, int, int], pipeline: LoadedPipeline) -> None:
        """Remember a file that loaded without problems."""
        self.new[name] = Entry(
            stat=stat,
            cached_at_ns=time.time_ns(),
            digest=pipeline.digest,
            pipeline_id=pipeline.id,
            text=pipeline.text,
            spec=pipeline.spec,
            config_json=pipeline.config_json,
            notifies=pipeline.notifies,
        )
        self.changed = True

    def save(self) -> None:
        """Write the entries seen this time (files gone are dropped); best effort."""
        if self.path is None or not (self.changed or self.new.keys() != self.old.keys()):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not private_dir(self.path.parent):
                return  # a directory others may write: neither read nor written
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".config-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:  # mkstemp: mode 0600
                    handle.write(_header())
                    handle.write(msgspec.msgpack.encode(self.new))
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
    for path in root.glob("config-*.pickle"):  # an older format, never read again
        with suppress(OSError):
            path.unlink()
    for path in root.glob(f"config-*{SUFFIX}"):
        with suppress(OSError):
            found.append((path.stat().st_mtime, path))
    for _, path in sorted(found, reverse=True)[keep:]:
        with suppress(OSError):
            path.unlink()


def private(status: os.stat_result) -> bool:
    """Owned by this user, and nobody else may write it."""
    owner = getattr(os, "getuid", None)
    mine = owner is None or status.st_uid == owner()
    return mine and not status.st_mode & (stat_mode.S_IWGRP | stat_mode.S_IWOTH)


def private_dir(path: Path) -> bool:
    """A real directory (not a link) that is ``private``."""
    try:
        status = path.lstat()
    except OSError:
        return False
    return stat_mode.S_ISDIR(status.st_mode) and private(status)


@cache
def _header() -> bytes:
    return MAGIC + _fingerprint().encode() + b"\n"


@cache
def _decoder() -> msgspec.msgpack.Decoder[dict[str, Entry]]:
    return msgspec.msgpack.Decoder(dict[str, Entry])
