"""explain: why one date of a pipeline has (not) run, every deciding fact in order.

It reads the config, the state and the plan at ``--now``; it never writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.commands.options import common_options, fail, make_clock, now_option
from reconciler.masking import mask_data

if TYPE_CHECKING:
    from reconciler.core.plan import Plan
    from reconciler.core.spec import PipelineSpec
    from reconciler.state.records import HistoryRow, QualityResult
    from reconciler.state.store import Store

STEPS = (
    "scheduled",
    "excluded",
    "paused",
    "coverage",
    "attempts",
    "retry",
    "requests",
    "sla",
    "dependencies",
    "plan",
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the state holds for the date: whether it is covered (the state's coverage,
    which a date marked failed leaves), its runs (oldest first), their quality checks, a
    recorded SLA breach, and what made it outdated."""

    covered: bool
    runs: list[HistoryRow]
    checks: list[QualityResult]
    breached: bool
    outdated_by: list[dict[str, object]]


@click.command()
@click.argument("pipeline_id")
@click.argument("day_text", metavar="DATE")
@common_options
@now_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def explain(
    pipeline_id: str, day_text: str, config_dir: Path, state: str, now_text: str | None, fmt: str
) -> None:
    """Why DATE of PIPELINE has (not) run: schedule, exclusions, coverage, attempts,
    retries, requests, SLA, dependencies and what the plan does with it now."""
    import json

    from reconciler.config.loading import load_config
    from reconciler.reconcile.planning import make_plan
    from reconciler.state.store import open_store

    day = _parse_day(day_text)
    now = make_clock(now_text).now()
    known = {p.id for p in load_config(config_dir)}
    if pipeline_id not in known:
        fail(_unknown(pipeline_id, known, config_dir))
    store = open_store(state)
    result = make_plan(config_dir, store, now, [pipeline_id])
    spec = next(s for s in result.specs if s.id == pipeline_id)
    facts = _read_facts(store, pipeline_id, day)
    steps = _explain(spec, day, now, result.plan, facts)
    if fmt == "json":
        out = {"pipeline_id": pipeline_id, "date": day.isoformat(), "now": _at(now), **steps}
        click.echo(json.dumps(mask_data(out), indent=2))
        return
    click.echo(f"{pipeline_id} {day.isoformat()} at {_at(now)}")
    for line in _text_lines(steps):
        click.echo(line)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"DATE: expected a date such as 2026-03-18, found {text!r}")


def _unknown(pipeline_id: str, known: set[str], config_dir: Path) -> str:
    from difflib import get_close_matches

    close = get_close_matches(pipeline_id, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(sorted(known)[:10]) or "none"
    return f"no pipeline with id {pipeline_id!r} in {config_dir} (known: {listed}){hint}"


def _read_facts(store: Store, pipeline_id: str, day: date) -> Facts:
    from reconciler.commands.inspect_cmds import cause_json
    from reconciler.core.intervals import contains

    with store.read() as session:
        covered = contains(session.observe([pipeline_id]).of(pipeline_id).covered, day)
        runs = session.date_runs(pipeline_id, day)
        checks = session.quality_results([r.run_id for r in runs])
        breached = bool(session.breaches_between([pipeline_id], day, day))
        newest = {day: runs[-1].run_id} if runs else {}
        marks = session.outdated_causes(pipeline_id, newest).get(day, [])
    outdated_by = [cause_json(m) for m in marks]
    return Facts(
        covered=covered, runs=runs, checks=checks, breached=breached, outdated_by=outdated_by
    )


def _explain(
    spec: PipelineSpec, day: date, now: datetime, plan: Plan, facts: Facts
) -> dict[str, Any]:
    """One JSON-ready entry per deciding step, in the order they decide."""
    from reconciler.core.calendar import (
        due_instant,
        is_scheduled,
        next_scheduled,
        prev_scheduled,
        sla_deadline,
    )

    scheduled = is_scheduled(spec.schedule, day)
    due_at = due_instant(spec.schedule, day)
    before = None if scheduled else prev_scheduled(spec.schedule, day)
    after = None if scheduled else next_scheduled(spec.schedule, day)
    exclusion = next((e for e in spec.exclude if e.first <= day <= e.last), None)
    # (a success followed by a mark as failed is not coverage: the state's ranges decide)
    successes = (r for r in reversed(facts.runs) if r.status == "success")
    covering = next(successes, None) if facts.covered else None
    mine = spec.id
    actions = [a for a in plan.actions if a.pipeline_id == mine and day in a.dates]
    waiting = [w for w in plan.waiting if w.pipeline_id == mine and day in w.dates]
    gaps = [g for g in plan.gaps if g.pipeline_id == mine and day in g.dates]
    retry = next((w for w in waiting if w.reason == "retry"), None)
    upstream = next((w for w in waiting if w.reason == "upstream"), None)
    exhausted = any(g.reason == "retries_exhausted" for g in gaps)
    canceled = any(g.reason == "canceled" for g in gaps)
    upstream_gap = next((g for g in gaps if g.reason == "upstream_gap"), None)
    action_requests = {a.request_id for a in actions if a.request_id}
    deadline = sla_deadline(spec.schedule, spec.sla_time, day) if spec.sla_time else None
    return {
        "scheduled": {
            "scheduled": scheduled,
            "due_at": _at(due_at),
            "due": due_at <= now,
            "previous_scheduled": before.isoformat() if before else None,
            "next_scheduled": after.isoformat() if after else None,
        },
        "excluded": {
            "excluded": exclusion is not None,
            "reason": exclusion.reason if exclusion else None,
        },
        "paused": {"paused": spec.paused, "reason": spec.pause_reason or None},
        "coverage": {
            "covered": facts.covered,
            "run_id": covering.run_id if covering else None,
            "attempt": covering.attempt if covering else None,
            "ended_at": _at(covering.end_time) if covering and covering.end_time else None,
        },
        "attempts": [
            {
                "run_id": r.run_id,
                "attempt": r.attempt,
                "status": r.status,
                "kind": r.kind,
                "ended_at": _at(r.end_time) if r.end_time else None,
                "error": r.error_message,
                "checks": [
                    {"name": c.check_name, "passed": c.passed, "details": c.error_details}
                    for c in facts.checks
                    if c.run_id == r.run_id
                ],
            }
            for r in facts.runs
        ],
        "retry": {
            "next_retry_at": _at(retry.next_retry_at) if retry and retry.next_retry_at else None,
            "attempt": retry.attempt if retry else None,
            "exhausted": exhausted,
            "canceled": canceled,
            "max_attempts": spec.retry.attempts,
        },
        "requests": [
            {
                "id": q.id,
                "from": q.start.isoformat(),
                "to": q.end.isoformat(),
                "planned": q.id in action_requests,
            }
            for q in spec.requests
            if q.start <= day <= q.end or q.id in action_requests
        ],
        "sla": {
            "deadline": _at(deadline) if deadline else None,
            "breach_recorded": facts.breached,
        },
        "dependencies": {
            "waits_for": [_upstream(u) for u in upstream.upstream] if upstream else [],
            # covered, and re-run once those upstream dates have re-run
            "refresh": bool(upstream and upstream.refresh),
            "upstream_gap": [_upstream(u) for u in upstream_gap.upstream] if upstream_gap else [],
            "outdated_by": facts.outdated_by,
        },
        "plan": _plan_step(actions, waiting, gaps),
    }


def _plan_step(actions: list[Any], waiting: list[Any], gaps: list[Any]) -> dict[str, Any]:
    """What the plan does with the date now: an action, a wait, a gap, or nothing."""
    if actions:
        a = actions[0]
        return {"does": a.kind, "attempt": a.attempt, "request_id": a.request_id}
    if waiting:
        return {"does": "wait", "reason": waiting[0].reason}
    if gaps:
        return {"does": "gap", "reason": gaps[0].reason}
    return {"does": "nothing"}


def _upstream(u: Any) -> dict[str, str]:
    return {"pipeline_id": u.pipeline_id, "from": u.first.isoformat(), "to": u.last.isoformat()}


def _at(instant: datetime) -> str:
    from reconciler.render.dates import instant as render_instant

    return render_instant(instant)


def _human(text: str) -> str:
    """An instant as ``2026-03-18 01:00 UTC`` for the text lines."""
    parsed = datetime.fromisoformat(text).astimezone(UTC)
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


def _dates(u: dict[str, str]) -> str:
    span = u["from"] if u["from"] == u["to"] else f"{u['from']}..{u['to']}"
    return f"{u['pipeline_id']} {span}"


def _text_lines(s: dict[str, Any]) -> list[str]:
    """One line per step (attempts: one per attempt), read top to bottom."""
    sch = s["scheduled"]
    if sch["scheduled"]:
        when = "due now" if sch["due"] else "not due yet"
        lines = [f"scheduled: yes, due {_human(sch['due_at'])} ({when})"]
    else:
        near = f"previous {sch['previous_scheduled'] or '-'}, next {sch['next_scheduled'] or '-'}"
        lines = [f"scheduled: no (nearest scheduled dates: {near})"]
    exc = s["excluded"]
    lines.append(
        "excluded: " + (f"yes ({exc['reason'] or 'no reason given'})" if exc["excluded"] else "no")
    )
    pau = s["paused"]
    lines.append(
        "paused: " + (f"yes ({pau['reason'] or 'no reason given'})" if pau["paused"] else "no")
    )
    cov = s["coverage"]
    if cov["covered"] and cov["run_id"] is None:  # (covered by no run the log still holds)
        lines.append("coverage: covered")
    elif cov["covered"]:
        ended = _human(cov["ended_at"]) if cov["ended_at"] else "-"
        lines.append(
            f"coverage: covered by run {cov['run_id']} (attempt {cov['attempt']}, ended {ended})"
        )
    else:
        lines.append("coverage: not covered")
    if not s["attempts"]:
        lines.append("attempts: none")
    for a in s["attempts"]:
        ended = _human(a["ended_at"]) if a["ended_at"] else "-"
        error = f": {a['error'].splitlines()[-1][:200]}" if a["error"] else ""
        lines.append(
            f"attempt {a['attempt']}: {a['status']} ({a['kind']}, run {a['run_id']}, "
            f"ended {ended}){error}"
        )
        for c in a["checks"]:
            verdict = "passed" if c["passed"] else "failed"
            details = f": {c['details'].splitlines()[-1][:200]}" if c["details"] else ""
            lines.append(f"  check {c['name']}: {verdict}{details}")
    ret = s["retry"]
    if ret["next_retry_at"]:
        lines.append(f"retry: attempt {ret['attempt']} at {_human(ret['next_retry_at'])}")
    elif ret["exhausted"]:
        lines.append(f"retry: exhausted ({ret['max_attempts']} attempts)")
    elif ret["canceled"]:
        lines.append("retry: none: its run was cancelled (a new request or `mark` runs it again)")
    else:
        lines.append("retry: none waiting")
    reqs = s["requests"]
    lines.append(
        "requests: "
        + (
            ", ".join(
                f"{q['id']} ({q['from']}..{q['to']}{', planned now' if q['planned'] else ''})"
                for q in reqs
            )
            or "none"
        )
    )
    sla = s["sla"]
    if sla["deadline"]:
        breach = "breach recorded" if sla["breach_recorded"] else "no breach recorded"
        lines.append(f"sla: deadline {_human(sla['deadline'])} ({breach})")
    else:
        lines.append("sla: none")
    dep = s["dependencies"]
    parts = []
    if dep["waits_for"]:
        then = " (covered: refreshed once they re-run)" if dep["refresh"] else ""
        parts.append("waits for " + ", ".join(map(_dates, dep["waits_for"])) + then)
    if dep["upstream_gap"]:
        parts.append("upstream gap " + ", ".join(map(_dates, dep["upstream_gap"])))
    for mark in dep["outdated_by"]:
        if mark["cause_from"] is None:
            parts.append(f"outdated by version change to {mark['cause_version']}")
        else:
            parts.append(
                f"outdated by {mark['cause_pipeline']} {mark['cause_from']}..{mark['cause_to']}"
            )
    lines.append("dependencies: " + ("; ".join(parts) or "nothing pending"))
    pl = s["plan"]
    if pl["does"] in ("wait", "gap"):
        lines.append(f"plan: {pl['does']} ({pl['reason']})")
    elif pl["does"] == "nothing":
        lines.append("plan: nothing to do")
    else:
        request = f", request {pl['request_id']}" if pl["request_id"] else ""
        lines.append(f"plan: {pl['does']} (attempt {pl['attempt']}{request})")
    return lines
