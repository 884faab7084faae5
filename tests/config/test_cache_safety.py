"""A planted or exposed config cache is never run and never trusted.

The cache holds data only (a fingerprint header, then MessagePack decoded into the
entry types) and is read only from a file and directory that belong to this user and
that nobody else may write, opened without following a link.
"""

from __future__ import annotations

import os
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.config.cache import ConfigCache
from reconciler.config.loading import load_config

PIPELINE = """\
id: orders
platform: local
trigger: {command: [echo, "{date}"]}
schedule: {type: daily, start: 2026-01-01}
"""
OLD_NS = 1_600_000_000 * 10**9
Cli = Callable[..., subprocess.CompletedProcess[str]]


class Planted:
    """Unpickling this runs ``os.system``: what a poisoned cache would carry."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def make_config(root: Path) -> Path:
    config = root / "pipelines.d"
    config.mkdir()
    path = config / "orders.yaml"
    path.write_text(PIPELINE)
    os.utime(path, ns=(OLD_NS, OLD_NS))
    return config


def test_a_planted_cache_file_runs_nothing_on_plan(tmp_path: Path, cli: Cli) -> None:
    config = make_config(tmp_path)
    cache_root = tmp_path / ".reconciler-cache"  # the cli fixture's cache dir
    cache_root.mkdir(mode=0o700)
    marker = tmp_path / "pwned"
    where = ConfigCache(config, cache_root).path
    assert where is not None
    where.write_bytes(pickle.dumps(Planted(marker)))
    result = cli("plan", "--now", "2026-01-03T00:00:00")
    assert result.returncode in (0, 2), result.stderr
    assert not marker.exists()
    assert "orders" in result.stdout


@pytest.fixture
def warm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A config dir and a cache dir holding a valid cache of it."""
    root = tmp_path / "cache"
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(root))
    config = make_config(tmp_path)
    load_config(config)
    assert ConfigCache(config, root).old
    return config, root


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_a_cache_file_others_may_write_is_not_read(warm: tuple[Path, Path], mode: int) -> None:
    config, root = warm
    (cached,) = root.glob("config-*")
    cached.chmod(mode)
    assert ConfigCache(config, root).old == {}
    assert load_config(config)[0]._model is not None  # validated afresh


def test_a_cache_dir_others_may_write_is_neither_read_nor_written(
    warm: tuple[Path, Path],
) -> None:
    config, root = warm
    root.chmod(0o777)
    assert ConfigCache(config, root).old == {}
    (cached,) = root.glob("config-*")
    cached.unlink()
    load_config(config)
    assert list(root.glob("config-*")) == []


def test_a_link_in_place_of_the_cache_file_is_not_followed(
    warm: tuple[Path, Path], tmp_path: Path
) -> None:
    config, root = warm
    (cached,) = root.glob("config-*")
    elsewhere = tmp_path / "elsewhere"
    cached.rename(elsewhere)
    cached.symlink_to(elsewhere)
    assert ConfigCache(config, root).old == {}


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_cache_file_of_another_user_is_not_read(warm: tuple[Path, Path]) -> None:
    config, root = warm
    (cached,) = root.glob("config-*")
    os.chown(cached, 12345, 12345)
    assert ConfigCache(config, root).old == {}
