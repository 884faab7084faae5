"""The config cache answers only for unchanged files, and planning reads the same."""

from __future__ import annotations

import os
import time
from pathlib import Path

import msgspec
import pytest

from reconciler.config.cache import MAGIC, ConfigCache
from reconciler.config.loading import load_config
from reconciler.config.specs import flat_config, to_spec
from reconciler.errors import ConfigError

PIPELINE = """\
id: {pid}
platform: local
schedule: {{type: daily, start: "2024-01-0{day}", at: "02:00"}}
trigger: {{command: [echo, "{{date}}"]}}
"""
OLD_NS = 1_600_000_000 * 10**9  # 2020: long before any cache write


def write(config: Path, pid: str, day: int = 1, age: bool = True) -> Path:
    path = config / f"{pid}.yaml"
    path.write_text(PIPELINE.format(pid=pid, day=day))
    if age:  # as after a checkout long ago: the cache may trust its metadata
        os.utime(path, ns=(OLD_NS, OLD_NS))
    return path


@pytest.fixture
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(root))
    return root


def test_a_second_load_comes_from_the_cache_and_plans_the_same(
    tmp_path: Path, cache_root: Path
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    for i in range(3):
        write(config, f"p{i}", day=i + 1)
    first = load_config(config)
    assert list(cache_root.glob("config-*.msgpack"))
    second = load_config(config)
    assert [p.id for p in second] == ["p0", "p1", "p2"]
    for a, b in zip(first, second, strict=True):
        assert b._model is None  # answered without YAML or validation
        assert (a.spec, a.flat, a.digest, a.file) == (b.spec, b.flat, b.digest, b.file)
        # the model, when asked for, is validated again from the cached text
        assert b.model == a.model
        assert to_spec(b.model) == b.spec and flat_config(b.model) == b.flat


def test_cached_entries_read_back_equal_and_know_their_channels(
    tmp_path: Path, cache_root: Path
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    write(config, "a", day=1)
    write(config, "b", day=1)
    write(config, "c", day=2)
    loud = config / "loud.yaml"
    loud.write_text(PIPELINE.format(pid="loud", day=1) + "notifications: [{channel: stdout}]\n")
    os.utime(loud, ns=(OLD_NS, OLD_NS))
    first = {p.id: p for p in load_config(config)}
    load_config(config)  # (written once more: the stat check trusts old files)
    second = {p.id: p for p in load_config(config)}
    assert all(p._model is None for p in second.values())
    assert {k: p.spec for k, p in second.items()} == {k: p.spec for k, p in first.items()}
    assert {k: p.notifies for k, p in second.items()} == {
        "a": False,
        "b": False,
        "c": False,
        "loud": True,
    }
    assert second["loud"].flat == first["loud"].flat
    assert second["loud"].flat["notifications"]


def test_a_change_is_seen_even_with_the_same_size_and_mtime(
    tmp_path: Path, cache_root: Path
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    path = write(config, "p0", day=1)
    assert load_config(config)[0].spec.schedule.start.day == 1
    write(config, "p0", day=2)  # same size, same (old) mtime: only ctime differs
    assert load_config(config)[0].spec.schedule.start.day == 2
    # a file rewritten within the same clock tick as its caching is not trusted
    path.write_text(PIPELINE.format(pid="p0", day=3))
    assert load_config(config)[0].spec.schedule.start.day == 3
    path.write_text(PIPELINE.format(pid="p0", day=4))
    assert load_config(config)[0].spec.schedule.start.day == 4


def test_removed_added_and_broken_files(tmp_path: Path, cache_root: Path) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    write(config, "a")
    write(config, "b")
    load_config(config)
    (config / "a.yaml").unlink()
    write(config, "c")
    assert [p.id for p in load_config(config)] == ["b", "c"]
    (config / "b.yaml").write_text("id: b\nplatform: local\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert any("b.yaml" in p.file and "schedule" in p.message for p in caught.value.problems)


def test_a_corrupt_or_foreign_cache_is_rebuilt(tmp_path: Path, cache_root: Path) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    write(config, "a")
    load_config(config)
    (cached,) = cache_root.glob("config-*.msgpack")
    cached.write_bytes(b"not a cache")
    assert [p.id for p in load_config(config)] == ["a"]
    cached.write_bytes(MAGIC + b"0" * 64 + b"\n" + msgspec.msgpack.encode({"a.yaml": None}))
    assert [p.id for p in load_config(config)] == ["a"]
    assert ConfigCache.open(config).old  # written again, readable by this version
    good = cached.read_bytes()
    header = good[: good.index(b"\n", len(MAGIC)) + 1]
    cached.write_bytes(header + msgspec.msgpack.encode({"a.yaml": "not an entry"}))
    assert [p.id for p in load_config(config)] == ["a"]
    # right types but a field of the wrong kind: refused by the decoder, rebuilt
    cached.write_bytes(header + good[len(header) :].replace(b"daily", b"yearl"))
    assert not ConfigCache.open(config).old
    assert [p.id for p in load_config(config)] == ["a"]


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "pipelines.d"
    config.mkdir()
    write(config, "a")
    assert [p.id for p in load_config(config)] == ["a"]
    assert not (tmp_path / "xdg").exists()
    assert load_config(config)[0]._model is not None


def test_an_unwritable_cache_dir_does_not_fail_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(blocker / "cache"))
    config = tmp_path / "pipelines.d"
    config.mkdir()
    write(config, "a", age=False)
    started = time.monotonic()
    assert [p.id for p in load_config(config)] == ["a"]
    assert time.monotonic() - started < 30


def test_only_the_most_recently_used_cache_files_are_kept(tmp_path: Path, cache_root: Path) -> None:
    from reconciler.config import cache as cache_module

    dirs = []
    for i in range(5):
        config = tmp_path / f"c{i}"
        config.mkdir()
        write(config, "a")
        dirs.append(config)
    for config in dirs[:3]:
        load_config(config)
    files = sorted(cache_root.glob("config-*.msgpack"), key=lambda p: p.stat().st_mtime)
    assert len(files) == 3
    os.utime(files[0], (1, 1))  # the least recently used one
    cache_module._prune(cache_root, keep=2)
    left = set(cache_root.glob("config-*.msgpack"))
    assert files[0] not in left and len(left) == 2
    # reading a cache marks it used: it outlives a newer, unused one
    oldest = ConfigCache.open(dirs[1]).path
    assert oldest is not None and oldest.exists()
    os.utime(oldest, (1, 1))
    assert load_config(dirs[1])[0]._model is None  # a hit, which touches the file
    assert oldest.stat().st_mtime > 1
