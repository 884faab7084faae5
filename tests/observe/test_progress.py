"""``apply --wait``'s progress: rich's live display under a real pseudo-terminal, and
plain lines (no control characters) when piped."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Cli
from tests.observe.fleet import write_fleet

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_pty(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 180) -> str:
    """The command's output as a terminal shows it (stdout and stderr on the pty)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    env = {**env, "COLUMNS": "160", "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
            if data:
                chunks.append(data)
                continue
        except BlockingIOError:
            pass
        except OSError:  # the terminal closed: the child has exited
            break
        if proc.poll() is not None and not _more(master, chunks):
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 1 or proc.returncode == 0
    return b"".join(chunks).decode(errors="replace")


def _more(master: int, chunks: list[bytes]) -> bool:
    try:
        data = os.read(master, 65536)
    except (BlockingIOError, OSError):
        return False
    chunks.append(data)
    return bool(data)


def test_progress_is_drawn_on_a_terminal(tmp_path: Path, cli_env: dict[str, str]) -> None:
    config = tmp_path / "pipelines.d"
    write_fleet(config, days=4)
    args = [sys.executable, "-m", "reconciler", "apply", "--wait", "--max-parallel", "2",
            "--config-dir", str(config), "--state", str(tmp_path / "s.duckdb")]  # fmt: skip
    screen = run_in_pty(args, tmp_path, cli_env)
    assert ANSI.search(screen), "no live display on the terminal"
    plain = ANSI.sub("", screen)
    # the display's last frame: every run ended, with the counts and the rate
    assert re.search(r"8 started, 0 running, 4 succeeded, 4 failed, 0 remaining", plain), plain
    assert "/min" in plain and "ETA" in plain
    assert "Applied: 8 run(s) started" in plain


def test_progress_is_plain_lines_when_piped(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "pipelines.d"
    write_fleet(config, days=4)
    result = cli("apply", "--wait", "--max-parallel", "2", "--config-dir", str(config),
                 "--state", str(tmp_path / "s.duckdb"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    both = result.stdout + result.stderr
    assert "\x1b" not in both and "\r" not in both
    assert "progress: 8 started, 0 running, 4 succeeded, 4 failed, 0 remaining" in result.stderr
    assert all(
        line.startswith("progress: ")
        for line in result.stderr.splitlines()
        if "started" in line and "remaining" in line
    )
    assert "Applied: 8 run(s) started" in result.stdout
