"""Template values and rendered parameters for one run."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from reconciler.config.templates import placeholders, render

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline


def run_values(pipeline: AnyPipeline, dates: tuple[date, ...], run_id: str) -> dict[str, str]:
    """``{date}``, ``{start_date}``, ... and ``{param.NAME}`` for one run."""
    first, last = dates[0].isoformat(), dates[-1].isoformat()
    values = {
        "date": first,
        "start_date": first,
        "end_date": last,
        "dates": ",".join(d.isoformat() for d in dates),
        "pipeline_id": pipeline.id,
        "run_id": run_id,
    }
    params = rendered_parameters(pipeline, values)
    values.update({f"param.{k}": v for k, v in params.items()})
    return values


def rendered_parameters(pipeline: AnyPipeline, values: dict[str, str]) -> dict[str, str]:
    """Declared parameters rendered, plus ``run_date``/``start_date``/``end_date``.

    A declared parameter may shadow an added one. Parameters may use each other (load
    time rejects circles), so they are resolved in dependency order.
    """
    added = {
        "run_date": values["date"],
        "start_date": values["start_date"],
        "end_date": values["end_date"],
    }
    declared = dict(pipeline.parameters)
    resolved: dict[str, str] = {k: v for k, v in added.items() if k not in declared}
    pending = dict(declared)
    while pending:
        progress = False
        for name, template in list(pending.items()):
            needs = [n[len("param.") :] for n in placeholders(template) if n.startswith("param.")]
            if all(n in resolved for n in needs):
                scope = dict(values) | {f"param.{k}": v for k, v in resolved.items()}
                resolved[name] = render(template, scope)
                del pending[name]
                progress = True
        if not progress:  # pragma: no cover - load time rejects circles
            raise ValueError(f"parameters refer to each other in a circle: {sorted(pending)}")
    return resolved
