"""Config changes: the YAML's flattened fields against the last applied config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.plan import ConfigChange


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys; lists stay whole values (they change as a unit)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(item, Mapping) and item:
                out.update(flatten(item, name))
            else:
                out[name] = item
        return out
    return {prefix: value}


def diff_configs(
    desired: Mapping[str, Mapping[str, Any]],
    applied: Mapping[str, Mapping[str, Any]],
    deleted: frozenset[str] = frozenset(),
) -> tuple[ConfigChange, ...]:
    """``create`` / ``update`` (changed fields, old and new) / ``delete``, by pipeline id.

    Both sides are flat ``{"retry.max_retries": 3}`` mappings. A pipeline already
    marked deleted in the state is not deleted again.
    """
    changes: list[ConfigChange] = []
    for pipeline_id in sorted(set(desired) | set(applied)):
        new = desired.get(pipeline_id)
        old = applied.get(pipeline_id)
        if new is not None and (old is None or pipeline_id in deleted):
            changes.append(ConfigChange(pipeline_id, "create"))
        elif new is None and old is not None:
            if pipeline_id not in deleted:
                changes.append(ConfigChange(pipeline_id, "delete"))
        elif new is not None and old is not None:
            fields = {
                key: (old.get(key), new.get(key))
                for key in sorted(set(new) | set(old))
                if old.get(key) != new.get(key)
            }
            if fields:
                changes.append(ConfigChange(pipeline_id, "update", fields))
    return tuple(changes)
