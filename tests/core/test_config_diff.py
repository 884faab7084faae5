"""Config changes: flattened YAML fields against the last applied config."""

from __future__ import annotations

from typing import Any

from reconciler.core.config_diff import diff_configs, flatten


def test_flatten_dots_nested_mappings_and_keeps_lists_whole() -> None:
    value = {
        "id": "a",
        "retry": {"max_retries": 3, "enabled": True},
        "schedule": {"days": [1, -1]},
        "parameters": {},
        "sla": None,
        "trigger": {"body": {"x": {"y": 1}}},
    }
    assert flatten(value) == {
        "id": "a",
        "retry.max_retries": 3,
        "retry.enabled": True,
        "schedule.days": [1, -1],
        "parameters": {},
        "sla": None,
        "trigger.body.x.y": 1,
    }


def test_diff_lists_old_and_new_of_changed_fields_only() -> None:
    old: dict[str, Any] = flatten({"retry": {"max_retries": 3, "enabled": True}, "name": "A"})
    new: dict[str, Any] = flatten({"retry": {"max_retries": 5, "enabled": True}, "name": "A"})
    (change,) = diff_configs({"a": new}, {"a": old})
    assert (change.pipeline_id, change.change) == ("a", "update")
    assert dict(change.fields) == {"retry.max_retries": (3, 5)}


def test_a_field_removed_from_the_yaml_shows_as_new_none() -> None:
    (change,) = diff_configs({"a": {"x": 1}}, {"a": {"x": 1, "sla.time": "06:00"}})
    assert dict(change.fields) == {"sla.time": ("06:00", None)}


def test_changes_are_sorted_by_pipeline_and_deleted_pipelines_stay_deleted() -> None:
    changes = diff_configs(
        {"c": {"x": 1}, "a": {"x": 1}},
        {"b": {"x": 1}, "d": {"x": 1}, "c": {"x": 2}},
        deleted=frozenset({"d"}),
    )
    assert [(c.pipeline_id, c.change) for c in changes] == [
        ("a", "create"),
        ("b", "delete"),
        ("c", "update"),
    ]
