"""Which directory entries may be read as pipeline files: regular files, and links that
stay inside their directory.

A link such as ``pipelines.d/p.yaml -> ~/.git-credentials`` would otherwise be read,
fail to parse, and have its content quoted in an error and in a pull request's
annotation. FIFOs and devices would block or never end, and a directory named
``x.yaml`` would be skipped without a word. Each of these is one problem, and nothing
of the target is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from reconciler.errors import Problem

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _refused(path: Path, message: str) -> Problem:
    return Problem(file=str(path), line=1, col=1, message=message)


def checked(path: Path) -> tuple[Path, os.stat_result] | Problem:
    """The file to read for ``path`` (itself, or a link's target inside the same
    directory) and its status, or the problem that refuses it."""
    try:
        status = path.lstat()
    except OSError as exc:
        return _refused(path, f"cannot read file: {exc.strerror or exc}")
    target = path
    if stat.S_ISLNK(status.st_mode):
        try:
            target = path.resolve(strict=True)
        except RuntimeError:  # Python < 3.13 reports a loop this way
            return _refused(path, "a symbolic link that loops; pipeline files must be files")
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return _refused(path, "a symbolic link that loops; pipeline files must be files")
            return _refused(path, "a symbolic link to a file that does not exist")
        home = path.parent.resolve()
        if not target.is_relative_to(home):
            return _refused(
                path,
                "a symbolic link that leads out of its directory; refusing to read it "
                "(copy the file in, or link to a file inside the directory)",
            )
        try:
            status = target.stat()
        except OSError as exc:
            return _refused(path, f"cannot read file: {exc.strerror or exc}")
    if not stat.S_ISREG(status.st_mode):
        kind = _KINDS.get(stat.S_IFMT(status.st_mode), "not a regular file")
        return _refused(path, f"{kind}, not a pipeline file; pipeline files must be regular files")
    return target, status


def read_checked(path: Path) -> tuple[bytes, os.stat_result] | Problem:
    """The bytes of a file ``checked`` allows, read so that a swap after the check
    (a link or FIFO put in its place) is refused too, never followed or waited on."""
    found = checked(path)
    if isinstance(found, Problem):
        return found
    target, _ = found
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(target, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _refused(path, "changed into a symbolic link while being read; refusing it")
        return _refused(path, f"cannot read file: {exc.strerror or exc}")
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            return _refused(path, "not a regular file; pipeline files must be regular files")
        return handle.read(), status
