"""The coverage report: one self-contained HTML file, inline CSS and SVG, readable without JS.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies), and
every state also has its own shape (solid, cornered, arrow, ring, cross, hollow,
pale), a text legend and counts, so no state is told by colour alone. Each date's
tooltip (an SVG ``<title>``) says its state, attempt, run id and error.
"""

from __future__ import annotations

from datetime import date
from html import escape

from reconciler.core.date_states import LABELS, STATES, DateState, count_states
from reconciler.render.calendar_grid import WEEKDAYS, Block, PipelineCalendar, blocks_for
from reconciler.render.report_data import Report

CELL = 12
STEP = 15
MONTH_GAP = 20
HEAD = 16
WEEKS_PER_BLOCK = 53

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Liberation Sans",Arial,sans-serif;
color:var(--fg);background:#fff;margin:0 auto;max-width:1120px;padding:24px 28px}
h1{font-size:24px;margin:0}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:15px;margin:0 0 2px}h3 small{font-weight:normal;color:var(--muted)}
p.meta{color:var(--muted);margin:2px 0 6px}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0 8px}
.tile{flex:1 1 0;border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:120px;
background:var(--soft)}
.tile b{display:block;font-size:24px;font-variant-numeric:tabular-nums}
.tile span{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft)}td.nw{white-space:nowrap}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.err{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;
word-break:break-word;width:42%}
.bar{display:inline-block;width:70px;height:8px;background:#e4e8ec;margin-right:6px;
border-radius:4px;overflow:hidden;vertical-align:middle}.bar i{display:block;height:100%;
background:#0072B2}
article{border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:0 0 14px}
svg.calendar{display:block;max-width:100%;height:auto;margin:6px 0}
svg text{font:10px system-ui,"Liberation Sans",Arial,sans-serif;fill:#59636e}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:6px}
.counts{color:var(--muted);font-size:13px;margin:0}
footer{color:var(--muted);font-size:12px;margin-top:28px;border-top:1px solid var(--line);
padding-top:8px}
.c-covered rect,.c-covered_late rect{fill:#0072B2}
.c-covered_late path{fill:#E69F00}
.c-outdated rect{fill:#0072B2}.c-outdated path{fill:none;stroke:#fff;stroke-width:1.6}
.c-blocked rect{fill:#fff;stroke:#CC79A7;stroke-width:1.4}
.c-blocked circle{fill:none;stroke:#CC79A7;stroke-width:1.2}
.c-blocked path{stroke:#CC79A7;stroke-width:1.2}
.c-in_flight rect{fill:#56B4E9}.c-in_flight path{fill:#fff}
.c-retrying rect{fill:#E69F00}.c-retrying circle{fill:none;stroke:#fff;stroke-width:1.6}
.c-failed rect{fill:#D55E00}.c-failed path{stroke:#fff;stroke-width:1.8}
.c-gap rect{fill:#fff;stroke:#D55E00;stroke-width:1.4}.c-gap path{stroke:#D55E00;stroke-width:1.2}
.c-canceled rect{fill:#fff;stroke:#b07d00;stroke-width:1.4}
.c-canceled path{stroke:#b07d00;stroke-width:1.6}
.c-excluded rect{fill:#fff;stroke:#8a949e;stroke-width:1}
.c-excluded path{stroke:#8a949e;stroke-width:1.4}
.c-not_due rect{fill:#eef1f4;stroke:#b4bcc5;stroke-width:1;stroke-dasharray:2 1.5}
"""


def _shape(state: DateState, x: float, y: float) -> str:
    """One cell: a square in the state's colour plus the state's own mark."""
    s = CELL
    rect = f'<rect x="{x}" y="{y}" width="{s}" height="{s}" rx="2"/>'
    if state == "covered_late":
        mark = f'<path d="M{x + s / 2} {y}H{x + s}V{y + s / 2}Z"/>'
    elif state == "in_flight":
        mark = f'<path d="M{x + 3.5} {y + 2.5}L{x + 8.5} {y + 5.5}L{x + 3.5} {y + 8.5}Z"/>'
    elif state == "retrying":
        mark = f'<circle cx="{x + s / 2}" cy="{y + s / 2}" r="2.8"/>'
    elif state == "failed" or state == "canceled":
        mark = f'<path d="M{x + 3} {y + 3}L{x + 8} {y + 8}M{x + 8} {y + 3}L{x + 3} {y + 8}"/>'
    elif state == "gap":
        mark = f'<path d="M{x + 2.5} {y + 8.5}L{x + 8.5} {y + 2.5}"/>'
    elif state == "excluded":  # a dash: left out on purpose
        mark = f'<path d="M{x + 2.5} {y + s / 2}H{x + s - 2.5}"/>'
    elif state == "outdated":  # covered, with a refresh arrow: a "<" over the square
        mark = f'<path d="M{x + 8} {y + 3}L{x + 4} {y + 6}L{x + 8} {y + 9}"/>'
    elif state == "blocked":  # a "no entry" sign: waits for its upstream
        c = s / 2
        mark = (
            f'<circle cx="{x + c}" cy="{y + c}" r="3.2"/>'
            f'<path d="M{x + c - 2.2} {y + c + 2.2}L{x + c + 2.2} {y + c - 2.2}"/>'
        )
    else:
        mark = ""
    return rect + mark


def _tooltip(cal: PipelineCalendar, d: date) -> str:
    """Date and state, then the newest attempt: number, outcome, run id, error."""
    state = cal.states[d]
    lines = [f"{d.isoformat()} ({WEEKDAYS[d.weekday()]}): {LABELS[state]}"]
    detail = cal.details.get(d)
    if detail is not None:
        run = f"attempt {detail.attempt} {detail.status}, run {detail.run_id}"
        if detail.platform_run_id and detail.platform_run_id != detail.run_id:
            run += f" (platform run {detail.platform_run_id})"
        lines.append(run)
        if detail.status == "failed" and detail.error:
            lines.append(f"error: {detail.error.strip().splitlines()[-1][:300]}")
    elif state == "gap":
        lines.append("never attempted")
    elif state == "blocked":
        lines.append("waits for its upstream dates")
    elif state == "excluded":
        lines.append("excluded in the pipeline file: never planned, never a gap")
    if state == "outdated":
        lines.append("an upstream date it read re-ran, or its version changed")
    return escape("\n".join(lines))


def _cell(cal: PipelineCalendar, d: date, x: float, y: float) -> str:
    state = cal.states[d]
    return f'<g class="c-{state}"><title>{_tooltip(cal, d)}</title>{_shape(state, x, y)}</g>'


def _week_block(cal: PipelineCalendar, block: Block, top: float) -> tuple[list[str], float]:
    left = 30
    out = [
        f'<text x="{left + col * STEP}" y="{top + 10}">{text}</text>'
        for col, text in block.col_labels
    ]
    for row, (label, days) in enumerate(zip(block.row_labels, block.rows, strict=True)):
        y = top + HEAD + row * STEP
        if row % 2 == 0 or len(block.rows) < 7:
            out.append(f'<text x="0" y="{y + 9}">{label}</text>')
        out += [_cell(cal, d, left + col * STEP, y) for col, d in enumerate(days) if d]
    return out, left + block.columns * STEP


def _month_block(cal: PipelineCalendar, block: Block, top: float) -> tuple[list[str], float]:
    left, width = 36, block.group * STEP + MONTH_GAP
    out = [
        f'<text x="{left + (col // block.group) * width}" y="{top + 10}">{text}</text>'
        for col, text in block.col_labels
    ]
    for row, (label, days) in enumerate(zip(block.row_labels, block.rows, strict=True)):
        y = top + HEAD + row * STEP
        out.append(f'<text x="0" y="{y + 9}">{label}</text>')
        for col, d in enumerate(days):
            if d is not None:
                x = left + (col // block.group) * width + (col % block.group) * STEP
                out.append(_cell(cal, d, x, y))
    return out, left + 12 * width


def calendar_svg(cal: PipelineCalendar) -> str:
    """The pipeline's calendar as one ``<svg class="calendar">``, a ``<title>`` per date."""
    parts: list[str] = []
    top, width = 0.0, 200.0
    for block in blocks_for(cal, WEEKS_PER_BLOCK):
        draw = _month_block if cal.layout == "month" else _week_block
        body, block_width = draw(cal, block, top)
        parts += body
        width = max(width, block_width)
        top += HEAD + len(block.rows) * STEP + 8
    if not parts:
        parts.append(
            f'<text x="0" y="12">no scheduled dates between {cal.first} and {cal.last}</text>'
        )
        top = 20
    counts = ", ".join(f"{n} {LABELS[s]}" for s, n in count_states(cal.states).items() if n)
    label = escape(f"Calendar of {cal.pipeline_id}, {cal.first} to {cal.last}: {counts}")
    return (
        f'<svg class="calendar" data-pipeline="{escape(cal.pipeline_id)}" role="img" '
        f'viewBox="0 0 {width:g} {top:g}" '
        f'width="{width:g}" height="{top:g}" aria-label="{label}">' + "".join(parts) + "</svg>"
    )


def _legend() -> str:
    items = []
    for state in STATES:
        swatch = (
            f'<svg width="{CELL}" height="{CELL}" viewBox="0 0 {CELL} {CELL}" aria-hidden="true">'
            f'<g class="c-{state}">{_shape(state, 0, 0)}</g></svg>'
        )
        items.append(f"<li>{swatch}{escape(LABELS[state])}</li>")
    return f'<ul class="legend" aria-label="Legend">{"".join(items)}</ul>'


def _pct(covered: int, due: int) -> str:
    return "–" if due == 0 else f"{100.0 * covered / due:.1f}%"


def _tiles(report: Report) -> str:
    st = report.statuses
    due, covered = sum(s.due - s.excluded for s in st), sum(s.covered for s in st)
    tiles = [
        (str(len(st)), "pipelines"),
        (_pct(covered, due), f"coverage ({covered} of {due} due dates)"),
        (str(sum(s.missing for s in st)), "gaps (never attempted)"),
        (str(sum(s.failed for s in st)), "failed dates"),
        (str(sum(s.in_flight for s in st)), "in flight"),
        (str(sum(s.sla_breaches for s in st)), "SLA breaches"),
    ]
    excluded = sum(s.excluded for s in st)
    if excluded:
        tiles.append((str(excluded), "excluded dates (never planned)"))
    outdated, blocked = sum(s.outdated for s in st), sum(s.blocked for s in st)
    if outdated or blocked:  # (only fleets with dependencies have any)
        tiles += [
            (str(outdated), "outdated dates (to refresh)"),
            (str(blocked), "blocked dates (wait for upstream)"),
        ]
    body = "".join(f'<div class="tile"><b>{v}</b><span>{escape(t)}</span></div>' for v, t in tiles)
    return f'<div class="tiles">{body}</div>'


def _fleet_table(report: Report) -> str:
    drawn = {c.pipeline_id for c in report.calendars}
    head = (
        "<tr><th>pipeline</th><th>schedule</th><th>coverage</th><th class=n>due</th>"
        "<th class=n>gaps</th><th class=n>excluded</th><th class=n>failed</th>"
        "<th class=n>in flight</th>"
        "<th class=n>outdated</th><th class=n>blocked</th><th class=n>SLA breaches</th>"
        "<th>last covered</th><th>next due (UTC)</th></tr>"
    )
    rows = []
    for s in report.statuses:
        pid = escape(s.pipeline_id)
        width = s.coverage_pct if s.due else 0.0
        nxt = s.next_due_at.strftime("%Y-%m-%d %H:%M") if s.next_due_at else "–"
        link = f'<a href="#cal-{pid}">{pid}</a>' if s.pipeline_id in drawn else pid
        rows.append(
            f"<tr><td>{link}</td><td>{report.schedules.get(s.pipeline_id, '')}</td>"
            f'<td><span class="bar"><i style="width:{width:.1f}%"></i></span>'
            f"{_pct(s.covered, s.due - s.excluded)}</td><td class=n>{s.due}</td>"
            f"<td class=n>{s.missing}</td><td class=n>{s.excluded}</td>"
            f"<td class=n>{s.failed}</td><td class=n>{s.in_flight}</td>"
            f"<td class=n>{s.outdated}</td><td class=n>{s.blocked}</td>"
            f"<td class=n>{s.sla_breaches}</td><td>{s.last_covered or '–'}</td><td>{nxt}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _article(cal: PipelineCalendar) -> str:
    pid = escape(cal.pipeline_id)
    name = f" <small>{escape(cal.name)}</small>" if cal.name != cal.pipeline_id else ""
    counts = count_states(cal.states)
    shown = " · ".join(f"{n} {escape(LABELS[s])}" for s, n in counts.items() if n)
    return (
        f'<article id="cal-{pid}"><h3>{pid}{name}</h3>'
        f'<p class="meta">{cal.schedule_type} · {cal.first} to {cal.last} · by {cal.layout}</p>'
        f'{calendar_svg(cal)}<p class="counts">{shown or "no scheduled dates"}</p></article>'
    )


def _failures(report: Report) -> str:
    if not report.failures:
        return "<p>No failed runs recorded.</p>"
    head = (
        "<tr><th>ended (UTC)</th><th>pipeline</th><th>dates</th><th class=n>attempt</th>"
        "<th>run</th><th>error</th></tr>"
    )
    rows = [
        f"<tr><td class=nw>{f.ended_at.strftime('%Y-%m-%d %H:%M') if f.ended_at else '–'}</td>"
        f"<td>{escape(f.pipeline_id)}</td><td class=nw>{escape(f.dates)}</td>"
        f"<td class=n>{f.attempt}</td><td><code>{escape(f.run_id)}</code> {escape(f.kind)}</td>"
        f'<td class="err">{escape(f.error) or "–"}</td></tr>'
        for f in report.failures
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _pending(report: Report) -> str:
    if not report.pending:
        return "<p>Nothing to backfill, refresh or retry.</p>"
    head = (
        "<tr><th>pipeline</th><th>kind</th><th>dates</th><th class=n>count</th><th>detail</th></tr>"
    )
    rows = [
        f"<tr><td>{escape(p.pipeline_id)}</td><td>{escape(p.kind)}</td>"
        f"<td>{escape(p.dates)}</td><td class=n>{p.count}</td><td>{escape(p.detail)}</td></tr>"
        for p in report.pending
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def render_report(report: Report) -> str:
    """The whole report as one HTML document (no scripts, no external resources)."""
    stamp = report.now.isoformat(timespec="seconds")
    articles = "".join(_article(c) for c in report.calendars) or "<p>No pipelines.</p>"
    if len(report.calendars) < len(report.statuses):
        articles = (
            f"<p><strong>Calendars of the {len(report.calendars)} least covered of "
            f"{len(report.statuses)} pipelines</strong>; choose others with "
            "<code>--pipeline</code>, or raise <code>--max-calendars</code>.</p>" + articles
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        f"<title>Coverage report at {stamp}</title><style>{CSS}</style></head><body>"
        f'<header><h1>Backfill coverage</h1><p class="meta">At {stamp} · '
        f"{len(report.calendars)} pipeline(s)</p></header>"
        f'<section aria-labelledby="fleet"><h2 id="fleet">Fleet</h2>{_tiles(report)}'
        f"{_fleet_table(report)}</section>"
        f'<section aria-labelledby="cals"><h2 id="cals">Calendars</h2>'
        "<p class=meta>One cell per scheduled date; hover a cell for its status, attempt, "
        f"run id and error.</p>{_legend()}{articles}</section>"
        f'<section aria-labelledby="fails"><h2 id="fails">Recent failures</h2>'
        f"{_failures(report)}</section>"
        '<section aria-labelledby="pend">'
        '<h2 id="pend">Pending backfills, refreshes and retries</h2>'
        f"{_pending(report)}</section>"
        f"<footer>Made by reconciler {escape(report.version)} (<code>reconciler report</code>)"
        " · one self-contained file: no scripts, no external resources.</footer>"
        "</body></html>\n"
    )
