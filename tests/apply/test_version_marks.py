"""The config sync marks a pipeline's whole schedule outdated when its version changed
(the old version read from the applied config), once, and only when it asks for it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.config.loading import LoadedPipeline
from reconciler.config.models import PIPELINE_ADAPTER
from reconciler.reconcile import apply_pass, intents
from reconciler.reconcile.apply_pass import ApplyOptions, sync_config
from reconciler.reconcile.pass_report import ApplyReport
from reconciler.reconcile.version_marks import applied_version, version_marks
from reconciler.state.store import Store, open_store

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
START = date(2026, 1, 1)
MODEL = PIPELINE_ADAPTER.validate_python(
    {
        "id": "p",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": START.isoformat()},
    }
)


def loaded(version: str | None, *, refresh: bool = True, end: date | None = None) -> LoadedPipeline:
    """The pipeline as loaded with ``version`` (in its spec and its flat config)."""
    out = LoadedPipeline.of(MODEL, "p.yaml", "digest", "")
    spec = out.spec
    spec = replace(
        spec,
        version=version,
        refresh_on_version_change=refresh,
        schedule=replace(spec.schedule, end=end),
    )
    flat: dict[str, Any] = {**out.flat, "version": version, "schedule.end": str(end)}
    out.__dict__.update(spec=spec, config_json=json.dumps(flat, sort_keys=True))
    return out


def sync(store: Store, pipeline: LoadedPipeline, at: datetime = NOW) -> None:
    """``sync_config`` of the pipeline; the config row it writes holds the pipeline's config
    text, version included (this test's model has no version: it comes with the spec)."""
    real = apply_pass.pipeline_row
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            apply_pass,
            "pipeline_row",
            lambda model: {**real(model), "config_json": pipeline.config_json},
        )
        sync_config(store, Path("pipelines.d"), [pipeline], at, ApplyOptions(), ApplyReport())
    with store.read() as session:
        assert session.applied_configs()["p"] == pipeline.config_json


def marks(store: Store) -> list[tuple[tuple[date, date], str | None, str | None]]:
    with store.read() as session:
        found = session.outdated_marks("p", date.min, date.max)
    assert all(m.cause_pipeline == "p" and m.version_change for m in found)
    return [(m.dates, m.cause_version, m.marked_at and m.marked_at.isoformat()) for m in found]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "state.duckdb"))


def test_a_version_change_marks_the_whole_schedule_once(store: Store) -> None:
    sync(store, loaded("1"))
    assert marks(store) == []  # a pipeline new to the state has nothing to refresh
    later = NOW + timedelta(days=1)
    sync(store, loaded("2"), later)
    assert marks(store) == [((START, date.max), "2", later.isoformat())]
    sync(store, loaded("2"), later + timedelta(days=1))  # the same config: nothing new
    assert marks(store) == [((START, date.max), "2", later.isoformat())]
    sync(store, loaded("2", end=date(2027, 1, 1)), later + timedelta(days=2))  # same version
    assert marks(store) == [((START, date.max), "2", later.isoformat())]
    with store.read() as session:
        assert list(session.observe(["p"]).of("p").outdated) == [(START, date.max)]


def test_a_first_version_is_a_change_and_the_schedule_end_bounds_it(store: Store) -> None:
    sync(store, loaded(None))
    end = date(2026, 6, 30)
    sync(store, loaded("x", end=end))
    assert marks(store) == [((START, end), "x", NOW.isoformat())]


def test_no_mark_without_refresh_on_version_change(store: Store) -> None:
    sync(store, loaded("1", refresh=False))
    sync(store, loaded("2", refresh=False))
    assert marks(store) == []


def test_the_applied_version_is_read_as_text() -> None:
    assert applied_version(json.dumps({"version": 3})) == "3"
    assert applied_version(json.dumps({"version": "1.10"})) == "1.10"
    assert applied_version(json.dumps({"id": "p"})) is None
    assert applied_version(None) is None and applied_version("not json") is None
    spec = replace(loaded("3").spec, refresh_on_version_change=True)
    assert version_marks([spec], {"p": json.dumps({"version": 3})}) == []
    assert version_marks([spec], {}) == []


def test_a_started_intent_carries_the_pipelines_version() -> None:
    from reconciler.core.plan_records import Action

    pipeline = loaded("5")
    actions = [Action("p", "run", (START,)), Action("p", "poll", (START,), run_id="x")]
    platforms: dict[str, Any] = {"local": None}  # (only its name is looked at)
    [intent] = intents.startable(actions, {"p": pipeline}, platforms, ApplyReport())
    assert (intent.pipeline_id, intent.dates, intent.version) == ("p", (START,), "5")
