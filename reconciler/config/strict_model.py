"""The base of every pipeline-file model: frozen, strict about keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Frozen, unknown keys rejected, aliases used on the way in and out."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
