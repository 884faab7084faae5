"""How a date waiting for its upstream is described, in every text output."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.core.plan_records import Gap, UpstreamDates, Waiting


def upstream_dates(upstream: tuple[UpstreamDates, ...]) -> str:
    """``orders_daily 2026-03-01..2026-03-07, rates 2026-03-07``."""
    parts = []
    for u in upstream:
        span = u.first.isoformat()
        if u.last != u.first:
            span += f"..{u.last.isoformat()}"
        parts.append(f"{u.pipeline_id} {span}")
    return ", ".join(parts)


def spanning(items: Iterable[UpstreamDates]) -> tuple[UpstreamDates, ...]:
    """One entry per upstream pipeline (in id order), from its first date to its last."""
    found: dict[str, UpstreamDates] = {}
    for u in items:
        had = found.get(u.pipeline_id)
        if had is not None:
            u = UpstreamDates(u.pipeline_id, min(had.first, u.first), max(had.last, u.last))
        found[u.pipeline_id] = u
    return tuple(found[k] for k in sorted(found))


def waits_for(upstream: tuple[UpstreamDates, ...], refresh: bool) -> str:
    """``waits for upstream orders_daily 2026-03-01..2026-03-07``, or for covered dates
    to be refreshed, ``refresh after upstream ...``."""
    what = "refresh after" if refresh else "waits for"
    return f"{what} upstream {upstream_dates(upstream)}"


def upstream_detail(waiting: Waiting) -> str:
    """What a date waiting for its upstream waits for (and whether it is a refresh)."""
    return waits_for(waiting.upstream, waiting.refresh)


def gap_detail(gap: Gap) -> str:
    """A gap's reason, with the upstream dates that will not run when it has them."""
    if gap.upstream:
        return f"{gap.reason}: {upstream_dates(gap.upstream)}"
    return gap.reason
