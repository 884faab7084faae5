"""``reconciler backfill``: a request it queues is one the next plan runs; anything it
would never plan (an id a declared request owns, dates outside the schedule) is an error."""

from __future__ import annotations

import json
from pathlib import Path

NOW = "2026-03-10T06:00:00"


def _pipeline(
    config: Path, pid: str = "orders", schedule: str = "", backfill: str = "", kind: str = "daily"
) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / f"{pid}.yaml").write_text(
        f"id: {pid}\nplatform: local\ntrigger:\n  command: [python, -c, 'pass', '{{date}}']\n"
        f"schedule:\n  type: {kind}\n  start: 2026-01-01\n{schedule}"
        f"backfill:\n  auto: false\n{backfill}",
        encoding="utf-8",
    )


def _requests(cli) -> dict[str, list[str]]:
    """request id -> dates the plan runs for it."""
    done = cli("plan", "--now", NOW, "--format", "json-v2")
    assert done.returncode == 0, done.stderr
    out: dict[str, list[str]] = {}
    for action in json.loads(done.stdout)["actions"]:
        if action.get("request_id"):
            out.setdefault(action["request_id"], []).extend(action["dates"])
    return out


def _one_line_error(done, *parts: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "queued" not in done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for part in parts:
        assert part in done.stderr, done.stderr


def test_a_declared_request_id_is_refused(tmp_path: Path, cli) -> None:
    declared = "  requests:\n    - {id: regenerate-02, from: 2026-02-01, to: 2026-02-03}\n"
    _pipeline(tmp_path / "pipelines.d", backfill=declared)
    done = cli(
        "backfill", "orders", "--from", "2026-01-05", "--to", "2026-01-06",
        "--id", "regenerate-02", "--now", NOW,
    )  # fmt: skip
    _one_line_error(done, "regenerate-02", "declared", "orders.yaml")
    assert _requests(cli) == {"regenerate-02": ["2026-02-01", "2026-02-02", "2026-02-03"]}


def test_an_id_of_the_reconcilers_own_refreshes_is_refused(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d")
    done = cli(
        "backfill", "orders", "--from", "2026-01-05", "--to", "2026-01-06",
        "--id", "refresh-20261125T130000711652", "--now", NOW,
    )  # fmt: skip
    _one_line_error(done, "'refresh-'", "its own refreshes")
    declared = "  requests:\n    - {id: refresh-02, from: 2026-02-01, to: 2026-02-03}\n"
    _pipeline(tmp_path / "pipelines.d", backfill=declared)
    bad = cli("validate")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "orders.yaml:" in bad.stderr and "keeps for its own refreshes" in bad.stderr


def test_a_range_outside_the_schedule_is_refused(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d", schedule="  end: 2026-06-30\n")
    before = cli("backfill", "orders", "--from", "2025-12-01", "--to", "2025-12-31", "--now", NOW)
    _one_line_error(before, "2025-12-01..2025-12-31", "before", "2026-01-01")
    after = cli("backfill", "orders", "--from", "2026-07-01", "--to", "2026-07-05", "--now", NOW)
    _one_line_error(after, "after", "2026-06-30")
    assert _requests(cli) == {}


def test_a_range_without_a_scheduled_date_is_refused(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d", pid="weekly", kind="weekly", schedule="  days: [mon]\n")
    # 2026-01-06..08 is Tuesday..Thursday: no Monday in it
    done = cli("backfill", "weekly", "--from", "2026-01-06", "--to", "2026-01-08", "--now", NOW)
    _one_line_error(done, "no scheduled date")


def test_a_range_overlapping_the_start_queues_the_scheduled_part(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d")
    done = cli("backfill", "orders", "--from", "2025-12-30", "--to", "2026-01-02", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert "2 scheduled date(s)" in done.stdout, done.stdout
    assert sorted(_requests(cli).popitem()[1]) == ["2026-01-01", "2026-01-02"]


def test_a_range_in_the_future_is_queued_and_runs_as_its_dates_come_due(
    tmp_path: Path, cli
) -> None:
    _pipeline(tmp_path / "pipelines.d")
    done = cli("backfill", "orders", "--from", "2026-03-09", "--to", "2026-03-20", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert "not due yet" in done.stdout, done.stdout
    assert "12 scheduled date(s), 10 not due yet" in done.stdout, done.stdout
    assert list(_requests(cli).values()) == [["2026-03-09", "2026-03-10"]]


def test_an_unknown_pipeline_is_refused(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d")
    done = cli("backfill", "nope", "--from", "2026-01-01", "--to", "2026-01-02", "--now", NOW)
    _one_line_error(done, "no pipeline with id 'nope'")


def test_generated_ids_never_collide(tmp_path: Path, cli) -> None:
    """Two backfills in the same second (here: the same pinned --now) get two ids."""
    _pipeline(tmp_path / "pipelines.d")
    ids = []
    for first, last in (("2026-01-01", "2026-01-02"), ("2026-01-05", "2026-01-06")):
        done = cli("backfill", "orders", "--from", first, "--to", last, "--now", NOW)
        assert done.returncode == 0, done.stderr
        ids.append(done.stdout.split()[2])
    assert len(set(ids)) == 2, ids
    assert set(_requests(cli)) == set(ids)
    # a user-typed id that exists is still an error: it names the id the user typed
    again = cli(
        "backfill", "orders", "--from", "2026-01-01", "--to", "2026-01-02",
        "--id", ids[0], "--now", NOW,
    )  # fmt: skip
    _one_line_error(again, ids[0], "already exists")
