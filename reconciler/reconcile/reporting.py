"""The edge of ``report`` and ``status --calendar``: config plus state, read only, for renderers.

Nothing here writes: the state is opened read-only (a missing file reads as empty,
and is never created), and the renderers it feeds are pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from reconciler import __version__
from reconciler.config.loading import LoadedPipeline, load_config
from reconciler.core.calendar import adjacency
from reconciler.core.coverage import Observed
from reconciler.core.date_states import DateDetail, blocked_by_pipeline, classify_dates
from reconciler.core.plan import Plan, Waiting
from reconciler.core.spec import PipelineSpec
from reconciler.core.status import PipelineStatus, blocked_counts, pipeline_status
from reconciler.reconcile.planning import make_plan, plan_pipelines, select
from reconciler.render.calendar_grid import PipelineCalendar, calendar_window, layout_for
from reconciler.render.calendar_text import render_calendars
from reconciler.render.dates import DateRun, format_run
from reconciler.render.report_data import Failure, Pending, Report
from reconciler.render.waiting_text import spanning, waits_for
from reconciler.state.store import Store, open_store

RECENT_FAILURES = 20
MAX_CALENDARS = 200
ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class RunLog:
    """What the run log adds to the compact state: per date its newest attempt, late dates."""

    details: dict[str, dict[date, DateDetail]] = field(default_factory=dict)
    late: dict[str, set[date]] = field(default_factory=dict)
    failures: tuple[Failure, ...] = ()


def _as_date(value: date | None) -> date | None:
    """``click.DateTime`` gives datetimes; calendars want days."""
    return value.date() if isinstance(value, datetime) else value


def _last_line(text: str | None) -> str:
    """The line of an error that says what went wrong (tracebacks end with it), shortened."""
    if not text:
        return ""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def _span(days: Sequence[date]) -> str:
    """A failed run's dates: one date, or first..last and how many (a run's dates are
    consecutive scheduled dates, whatever the schedule)."""
    if len(days) == 1:
        return days[0].isoformat()
    return f"{days[0]}..{days[-1]} ({len(days)} dates)"


def read_run_log(
    state: str,
    windows: dict[str, tuple[date, date]],
    details: bool = True,
    failures_of: Sequence[str] = (),
    limit: int = RECENT_FAILURES,
) -> RunLog:
    """From the run log: late dates in each window, with ``details`` the newest attempt
    of every date, and the ``limit`` latest failed runs of ``failures_of``."""
    if not (windows or failures_of):
        return RunLog()
    ids = sorted(windows)
    lo = min((w[0] for w in windows.values()), default=date.min)
    hi = max((w[1] for w in windows.values()), default=date.min)
    with open_store(state).read() as session:
        newest = session.newest_attempts(ids, lo, hi, late_only=not details)
        breaches = session.breaches_between(ids, lo, hi)
        failed = session.recent_failures(sorted(failures_of), limit)
    found: dict[str, dict[date, DateDetail]] = {}
    late: dict[str, set[date]] = {}
    for pid, day, status, attempt, batch, error, sla_met, platform_id in newest:
        first, last = windows[pid]
        if first <= day <= last:
            detail = DateDetail(
                status=status,
                attempt=attempt or 1,
                run_id=batch,
                error=error,
                sla_met=sla_met,
                platform_run_id=platform_id,
            )
            found.setdefault(pid, {})[day] = detail
            if status == "success" and sla_met is False:
                late.setdefault(pid, set()).add(day)
    for pid, day in breaches:
        late.setdefault(pid, set()).add(day)
    failures = tuple(
        Failure(
            pipeline_id=pid,
            run_id=batch,
            dates=_span(days),
            count=len(days),
            attempt=attempt or 1,
            ended_at=ended.replace(tzinfo=UTC) if ended else None,
            error=_last_line(error),
            kind=kind or "",
        )
        for pid, batch, days, attempt, ended, error, kind in failed
    )
    return RunLog(found if details else {}, late, failures)


def _fleet_plan(every: Sequence[LoadedPipeline], store: Store, now: datetime) -> Plan | None:
    """The whole fleet's plan when some pipeline depends on another (whether a date is
    blocked depends on its upstreams, which a ``--pipeline`` filter may leave out);
    None when none does, and no date can be blocked."""
    if not any(p.spec.depends_on for p in every):
        return None
    return plan_pipelines(every, store, now).plan


def blocked_dates(every: Sequence[LoadedPipeline], store: Store, now: datetime) -> dict[str, int]:
    """Per pipeline, how many dates wait for their upstream (or will not run because an
    upstream date will not): ``status``'s ``blocked``, from a plan of the whole fleet."""
    plan = _fleet_plan(every, store, now)
    return blocked_counts(plan) if plan is not None else {}


def _calendars(
    loaded: Sequence[LoadedPipeline],
    specs: Sequence[PipelineSpec],
    observed: Observed,
    log_for: dict[str, tuple[date, date]],
    log: RunLog,
    now: datetime,
    blocked: dict[str, set[date]] | None = None,
) -> list[PipelineCalendar]:
    out = []
    held = blocked or {}
    for pipeline, spec in zip(loaded, specs, strict=True):
        first, last = log_for[spec.id]
        states = classify_dates(
            spec,
            observed.of(spec.id),
            now,
            first,
            last,
            log.late.get(spec.id, ()),
            held.get(spec.id, ()),
        )
        out.append(
            PipelineCalendar(
                pipeline_id=spec.id,
                name=pipeline.model.name or spec.id,
                schedule_type=spec.schedule.type,
                layout=layout_for(spec.schedule),
                first=first,
                last=last,
                states=states,
                details=log.details.get(spec.id, {}),
            )
        )
    return out


def _windows(
    specs: Sequence[PipelineSpec], now: datetime, date_from: date | None, date_to: date | None
) -> dict[str, tuple[date, date]]:
    lo, hi = _as_date(date_from), _as_date(date_to)
    return {s.id: calendar_window(s.schedule, now, layout_for(s.schedule), lo, hi) for s in specs}


def render_status_calendar(
    config_dir: Path,
    state: str,
    now: datetime,
    pipelines: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    colour: bool,
) -> str:
    """``reconciler status --calendar``: every selected pipeline's calendar, and a legend."""
    every = load_config(config_dir)
    loaded = select(every, pipelines, config_dir)
    specs = [p.spec for p in loaded]
    windows = _windows(specs, now, date_from, date_to)
    store = open_store(state)
    with store.read() as session:
        observed = session.observe([s.id for s in specs])
    log = read_run_log(state, windows, details=False)
    plan = _fleet_plan(every, store, now)
    blocked = blocked_by_pipeline(plan) if plan is not None else {}
    cals = _calendars(loaded, specs, observed, windows, log, now, blocked)
    return render_calendars(cals, now.isoformat(timespec="seconds"), colour)


Span = tuple[int, int, int]  # first and last day ordinals of consecutive dates, how many


def _runs_text(spec: PipelineSpec | None, spans: list[Span], limit: int = 4) -> str:
    """Runs of consecutive scheduled dates, at most ``limit`` shown. ``spans`` are
    stretches of consecutive dates (a plan's groups give them without listing a fleet's
    10^6 backlog dates); touching ones are joined."""
    follows = adjacency(spec.schedule) if spec is not None else lambda a, b: (b - a).days == 1
    runs: list[DateRun] = []
    for first, last, count in sorted(spans):
        start, end = date.fromordinal(first), date.fromordinal(last)
        if runs and follows(runs[-1][1], start):
            runs[-1] = (runs[-1][0], end, runs[-1][2] + count)
        else:
            runs.append((start, end, count))
    text = ", ".join(format_run(r) for r in runs[:limit])
    if len(runs) > limit:
        rest = sum(r[2] for r in runs[limit:])
        text += f", +{rest} more dates in {len(runs) - limit} runs"
    return text


def _day_spans(days: Iterable[date]) -> list[Span]:
    return [(d.toordinal(), d.toordinal(), 1) for d in days]


def pending_entries(plan: Plan, specs: Sequence[PipelineSpec]) -> tuple[Pending, ...]:
    """Backfills and refreshes the next apply would start, retries due or waiting, dates
    waiting for their upstream: grouped, dates compressed (read from the plan's groups:
    ten years of backfills are a few date ranges, never listed)."""
    by_id = {s.id: s for s in specs}
    groups: dict[tuple[str, str, str], list[Span]] = {}
    for group in plan.action_groups():
        if group.kind == "backfill":
            detail = f"priority {group.priority}"
            if group.request_id:
                detail = f"request {group.request_id}, {detail}"
                if group.reason:
                    detail += f": {group.reason}"
        elif group.kind == "refresh":
            detail = f"outdated, priority {group.priority}"
        elif group.kind == "retry":
            detail = f"attempt {group.attempt}, due now"
        else:
            continue
        spans = groups.setdefault((group.pipeline_id, group.kind, detail), [])
        spans += [(span[0], span[-1], len(span)) for span in group.spans if span]
    upstream: dict[tuple[str, bool], list[Waiting]] = {}
    for waiting in plan.waiting:
        if waiting.reason == "upstream":
            upstream.setdefault((waiting.pipeline_id, waiting.refresh), []).append(waiting)
            continue
        if waiting.next_retry_at is None:
            continue
        detail = (
            f"attempt {waiting.attempt} at "
            f"{waiting.next_retry_at.strftime('%Y-%m-%d %H:%M:%S UTC')}"
        )
        groups.setdefault((waiting.pipeline_id, "retry", detail), []).extend(
            _day_spans(waiting.dates)
        )
    for (pid, refresh), entries in upstream.items():
        ups = spanning(u for w in entries for u in w.upstream)
        kind = "refresh" if refresh else "waiting"
        days = _day_spans(d for w in entries for d in w.dates)
        groups.setdefault((pid, kind, waits_for(ups, refresh)), []).extend(days)
    return tuple(
        Pending(
            pipeline_id=pid,
            kind=kind,
            dates=_runs_text(by_id.get(pid), spans),
            count=sum(span[2] for span in spans),
            detail=detail,
        )
        for (pid, kind, detail), spans in sorted(groups.items(), key=lambda kv: kv[0][:2])
    )


def _worst_first(statuses: Sequence[PipelineStatus], count: int) -> set[str]:
    """The ``count`` pipelines most in need of a look: lowest coverage, then most failed."""
    ranked = sorted(statuses, key=lambda r: (r.coverage_pct, -r.failed, r.pipeline_id))
    return {r.pipeline_id for r in ranked[:count]}


def gather_report(
    config_dir: Path,
    state: str,
    now: datetime,
    pipelines: Sequence[str] = (),
    date_from: date | None = None,
    date_to: date | None = None,
    max_calendars: int = MAX_CALENDARS,
) -> Report:
    """Everything ``report`` shows, read once at ``now``.

    Every pipeline is in the fleet summary; calendars (a few hundred bytes per date)
    are drawn for at most ``max_calendars`` of them, the least covered first.
    """
    store = open_store(state)
    result = make_plan(config_dir, store, now, pipelines)
    with store.read() as session:
        observed = session.observe([s.id for s in result.specs])
    plan = result.plan
    if pipelines and any(s.depends_on for s in result.specs):
        # readiness needs every upstream: the selected pipelines' view of the fleet plan
        plan = _fleet_plan(load_config(config_dir), store, now) or plan
    counts = blocked_counts(plan)
    statuses = tuple(
        pipeline_status(s, observed.of(s.id), now, counts.get(s.id, 0)) for s in result.specs
    )
    drawn = _worst_first(statuses, max_calendars)
    pairs = [(p, s) for p, s in zip(result.pipelines, result.specs, strict=True) if s.id in drawn]
    specs = [s for _, s in pairs]
    windows = _windows(specs, now, date_from, date_to)
    log = read_run_log(state, windows, failures_of=[s.id for s in result.specs])
    held = blocked_by_pipeline(plan)
    cals = _calendars([p for p, _ in pairs], specs, observed, windows, log, now, held)
    return Report(
        now=now,
        calendars=tuple(cals),
        statuses=statuses,
        failures=log.failures,
        pending=pending_entries(result.plan, result.specs),
        version=__version__,
        schedules={s.id: s.schedule.type for s in result.specs},
    )
