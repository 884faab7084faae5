"""The applied config of each pipeline as the state stores it (its JSON text), parsed only
when read: ``apply`` compares the texts, ``plan`` diffs the few that differ."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping


class AppliedConfigs(Mapping[str, Mapping[str, object]]):
    """``pipelines.config_json`` per id, parsed when first read: ``apply`` never reads
    them (it syncs by comparing the text), ``plan`` diffs them."""

    def __init__(self, texts: dict[str, str | None]) -> None:
        self._texts = texts
        self._parsed: dict[str, Mapping[str, object]] = {}

    def __getitem__(self, pipeline_id: str) -> Mapping[str, object]:
        found = self._parsed.get(pipeline_id)
        if found is None:
            text = self._texts[pipeline_id]
            found = self._parsed[pipeline_id] = json.loads(text) if text else {}
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    @classmethod
    def parsed(cls, configs: Mapping[str, Mapping[str, object]]) -> AppliedConfigs:
        """From configs already parsed (tests, and callers that built them)."""
        out = cls({pid: json.dumps(config, sort_keys=True) for pid, config in configs.items()})
        out._parsed = dict(configs)
        return out

    def text(self, pipeline_id: str) -> str | None:
        """The stored ``config_json`` text (None: no such pipeline, or none stored)."""
        return self._texts.get(pipeline_id)

    def without(self, pipeline_ids: set[str]) -> AppliedConfigs:
        """The same configs, less some ids (ones known to be unchanged)."""
        out = AppliedConfigs({k: v for k, v in self._texts.items() if k not in pipeline_ids})
        out._parsed = {k: v for k, v in self._parsed.items() if k not in pipeline_ids}
        return out
