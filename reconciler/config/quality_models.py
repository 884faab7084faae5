"""Pydantic models of a pipeline's ``quality`` section: its checks and what they read."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from reconciler.config.strict_model import Strict


class QualityCheckModel(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
    engine: Literal["duckdb", "snowflake"] = "duckdb"
    sql: str = Field(min_length=1, description="one boolean, or rows that are failures")
    on_fail: Literal["fail", "warn"] = "fail"
    reads: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="duckdb: the directories (ending in /) and files the SQL may read; "
        "templates allowed, no glob patterns; nothing else is readable",
    )

    @field_validator("reads")
    @classmethod
    def _no_patterns(cls, value: list[str]) -> list[str]:
        for index, path in enumerate(value):
            wild = [i for i, c in enumerate(path) if c in "*?["]
            if wild:
                folder = path[: path.rfind("/", 0, wild[0]) + 1] or "./"
                raise ValueError(
                    f"[{index}]: {path!r} is a pattern; reads takes directories and files "
                    f"(declare the directory: {folder})"
                )
        return value

    @model_validator(mode="after")
    def _reads_are_local(self) -> QualityCheckModel:
        if self.reads and self.engine != "duckdb":
            raise ValueError("reads: only duckdb checks read local files; remove reads")
        return self


class QualityModel(Strict):
    checks: list[QualityCheckModel] = Field(default_factory=list)

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, value: list[QualityCheckModel]) -> list[QualityCheckModel]:
        first: dict[str, int] = {}
        for index, check in enumerate(value):
            if check.name in first:
                raise ValueError(
                    f"[{index}].name: check name {check.name!r} is already used by "
                    f"checks[{first[check.name]}]; each check needs its own name"
                )
            first[check.name] = index
        return value
