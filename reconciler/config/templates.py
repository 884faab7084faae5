"""Template placeholders: which exist, and finding unknown ones at load time."""

from __future__ import annotations

import string
from collections.abc import Collection, Iterable

RUN_PLACEHOLDERS = frozenset({"date", "start_date", "end_date", "dates", "pipeline_id", "run_id"})
ADDED_PARAMETERS = frozenset({"run_date", "start_date", "end_date"})


def placeholders(template: str) -> list[str]:
    """Names between braces in ``template`` (``{{`` and ``}}`` are literal braces).

    Raises ``ValueError`` for unbalanced braces and for format specs, which templates
    do not support.
    """
    names: list[str] = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(
                f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
                " uses a format spec; templates only substitute plain values"
            )
        names.append(name)
    return names


def unknown_placeholders(
    template: str,
    parameters: Collection[str],
    *,
    extra: Iterable[str] = (),
    allow_params: bool = True,
) -> list[str]:
    """Problems with the placeholders of one template, as messages (empty when fine).

    ``parameters`` is looked up, never copied: a file with thousands of parameters,
    each a template, must not cost thousands squared.
    """
    try:
        names = placeholders(template)
    except ValueError as exc:
        text = str(exc)
        if "Single" in text or "unmatched" in text.lower() or "expected" in text.lower():
            return [f"unbalanced braces ({text}); write {{{{ and }}}} for literal braces"]
        return [text]
    allowed = RUN_PLACEHOLDERS | set(extra)
    problems: list[str] = []
    for name in names:
        if name.startswith("param."):
            if not allow_params:
                problems.append(f"{{{name}}}: parameters cannot refer to other parameters")
            elif (param := name[len("param.") :]) not in parameters and (
                param not in ADDED_PARAMETERS
            ):
                choices = _some(sorted({*parameters, *ADDED_PARAMETERS}))
                problems.append(f"unknown parameter {{{name}}} (declared: {choices})")
        elif name not in allowed:
            choices = ", ".join(f"{{{n}}}" for n in sorted(allowed)) + ", {param.NAME}"
            problems.append(f"unknown placeholder {{{name}}} (expected one of {choices})")
    return problems


def render(template: str, values: dict[str, str]) -> str:
    """Substitute placeholders; ``values`` maps names (``date``, ``param.x``) to text."""
    out: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


def _some(names: list[str], limit: int = 20) -> str:
    """Names for a message, at most ``limit`` of them."""
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
