"""How a date waiting for its upstream is described, in every text output."""

from __future__ import annotations

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


def upstream_detail(waiting: Waiting) -> str:
    """What a date waiting for its upstream waits for (and whether it is a refresh)."""
    what = "refresh after" if waiting.refresh else "waits for"
    return f"{what} upstream {upstream_dates(waiting.upstream)}"


def gap_detail(gap: Gap) -> str:
    """A gap's reason, with the upstream dates that will not run when it has them."""
    if gap.upstream:
        return f"{gap.reason}: {upstream_dates(gap.upstream)}"
    return gap.reason
