"""Fixed pipelines and states for the calendar and report tests.

Imported by the tests of this directory as ``report_support`` (pytest puts the
directory on ``sys.path``). Two kinds of fixture: pure inputs (specs and observed
state, built by hand) for snapshots, and a real state file written through the
store's own writer API, with a config dir, for the report and browser tests.
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from reconciler.core.batches import Batch, Outcome, RunIntent
from reconciler.core.coverage import Failed, InFlight, PipelineObserved
from reconciler.core.date_states import classify_dates
from reconciler.core.spec import Exclusion, PipelineSpec, RetryPolicy, Schedule
from reconciler.render.calendar_grid import PipelineCalendar, calendar_window, layout_for
from reconciler.state.duckdb_store import DuckDBStore

NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
ENDED = datetime(2026, 3, 20, 5, 0, tzinfo=UTC)
HOSTILE = 'Traceback ...\nValueError: bad row </title><script>alert("x")</script> & <b>'


def d(text: str) -> date:
    return date.fromisoformat(text)


def span(first: str, last: str) -> list[date]:
    a, b = d(first), d(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# --- pure inputs: one pipeline per layout, every state present somewhere -----------------

DAILY = PipelineSpec(
    id="orders_daily",
    schedule=Schedule(type="daily", start=d("2026-01-01"), offset=1),
    retry=RetryPolicy(max_retries=2),
    sla_time=time(6, 0),
)
DAILY_OBS = PipelineObserved(
    covered=((d("2026-01-01"), d("2026-02-09")), (d("2026-02-12"), d("2026-03-10"))),
    failed={
        d("2026-02-10"): Failed(attempt=3, ended_at=ENDED, run_id="b-0210"),  # retries used up
        d("2026-02-11"): Failed(
            attempt=1, ended_at=ENDED, run_id="b-0211"
        ),  # another attempt to come
    },
    in_flight={x: InFlight(run_id="b-flight", attempt=1) for x in span("2026-03-11", "2026-03-13")},
)
DAILY_LATE = frozenset(span("2026-01-15", "2026-01-16"))

WEEKLY = PipelineSpec(
    id="orders_weekly_summary",
    schedule=Schedule(type="weekly", start=d("2026-01-05"), days=(0, 2, 4)),
    retry=RetryPolicy(enabled=False),
    exclude=(Exclusion(first=d("2026-02-25"), last=d("2026-02-25"), reason="outage"),),
)
WEEKLY_OBS = PipelineObserved(
    covered=((d("2026-01-05"), d("2026-02-20")),),
    failed={d("2026-02-23"): Failed(attempt=1, ended_at=ENDED, run_id="w-1")},
    outdated=((d("2026-02-02"), d("2026-02-06")),),  # an upstream date they read re-ran
    canceled=((d("2026-02-27"), d("2026-02-27")),),  # its run was cancelled on request
)
# held back by the plan: their upstream dates are not there yet
WEEKLY_BLOCKED = frozenset({d("2026-03-02"), d("2026-03-04")})

MONTHLY = PipelineSpec(
    id="month_end_report",
    schedule=Schedule(type="monthly", start=d("2025-01-31"), days=(-1,), offset=1, at=time(7, 0)),
    retry=RetryPolicy(max_retries=1),
)
MONTHLY_OBS = PipelineObserved(
    covered=((d("2025-01-31"), d("2025-12-31")),),
    failed={d("2026-01-31"): Failed(attempt=1, ended_at=ENDED, run_id="m-1")},
)

CASES = (
    (DAILY, DAILY_OBS, DAILY_LATE, ()),
    (WEEKLY, WEEKLY_OBS, (), WEEKLY_BLOCKED),
    (MONTHLY, MONTHLY_OBS, (), ()),
)


def calendar(
    spec: PipelineSpec,
    obs: PipelineObserved,
    late: frozenset[date] | tuple[()] = (),
    name: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    blocked: frozenset[date] | tuple[()] = (),
) -> PipelineCalendar:
    layout = layout_for(spec.schedule)
    first, last = calendar_window(spec.schedule, NOW, layout, date_from, date_to)
    states = classify_dates(spec, obs, NOW, first, last, late, blocked)
    return PipelineCalendar(
        pipeline_id=spec.id,
        name=name or spec.id,
        schedule_type=spec.schedule.type,
        layout=layout,
        first=first,
        last=last,
        states=states,
    )


def fixed_calendars() -> list[PipelineCalendar]:
    names = {"orders_daily": "Orders daily (synthetic)"}
    return [calendar(s, o, late, names.get(s.id), blocked=blocked) for s, o, late, blocked in CASES]


# --- a real config dir and state file ------------------------------------------------------


def write_config(config_dir: Path) -> list[str]:
    """Three pipelines (daily with an SLA, weekly, monthly); JSON is YAML."""
    config_dir.mkdir(parents=True, exist_ok=True)
    base = {"platform": "local", "trigger": {"command": ["true", "{date}"]}}
    pipelines = {
        "alpha": {
            "schedule": {"type": "daily", "start": "2026-01-01"},
            "retry": {"schedule": "every 5 minutes", "max_retries": 1},
            "sla": {"time": "06:00"},
            "name": "Alpha & <daily>",
        },
        "beta": {
            "schedule": {"type": "weekly", "days": ["mon", "wed", "fri"], "start": "2026-01-05"}
        },
        "gamma": {"schedule": {"type": "monthly", "days": [-1], "start": "2025-06-30"}},
    }
    for pid, extra in pipelines.items():
        data = {"id": pid, **base, **extra}
        (config_dir / f"{pid}.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return sorted(pipelines)


def _intent(batch: str, pid: str, dates: list[date], attempt: int = 1) -> RunIntent:
    kind = "retry" if attempt > 1 else "backfill"
    return RunIntent(
        batch_id=batch,
        key=batch,
        pipeline_id=pid,
        dates=tuple(dates),
        attempt=attempt,
        kind=kind,
        request_id=None,
        priority=0,
        retry_schedule="",
        platform="local",
    )


def _batch(intent: RunIntent, started: datetime) -> Batch:
    return Batch(
        batch_id=intent.batch_id,
        pipeline_id=intent.pipeline_id,
        dates=intent.dates,
        status="running",
        attempt=intent.attempt,
        kind=intent.kind,
        request_id=None,
        platform="local",
        platform_run_id=None,
        started_at=started,
    )


def write_state(path: Path) -> None:
    """Runs recorded as ``apply`` records them: covered, late, failed, retrying, in flight."""
    t0 = datetime(2026, 3, 19, 0, 0, tzinfo=UTC)
    done = [
        ("a-jan", "alpha", span("2026-01-01", "2026-02-28"), True, None, 1),
        ("a-late", "alpha", span("2026-03-01", "2026-03-03"), True, None, 1),
        ("a-mar", "alpha", span("2026-03-04", "2026-03-10"), True, None, 1),
        ("a-retry", "alpha", [d("2026-03-11")], False, HOSTILE, 1),
        ("a-fail1", "alpha", [d("2026-03-12")], False, "exit code 1: first try", 1),
        ("a-fail2", "alpha", [d("2026-03-12")], False, "exit code 1: no luck", 2),
        (
            "b-1",
            "beta",
            [x for x in span("2026-01-05", "2026-03-13") if x.weekday() in (0, 2, 4)],
            True,
            None,
            1,
        ),
        ("g-1", "gamma", [d("2025-06-30"), d("2025-07-31"), d("2025-08-31")], True, None, 1),
        ("g-2", "gamma", [d("2025-09-30")], False, "exit code 2: upstream missing", 1),
    ]
    store = DuckDBStore(str(path))
    for batch, pid, dates, ok, error, attempt in done:
        intent = _intent(batch, pid, dates, attempt)
        # the late batch finishes after its dates' SLA deadlines (06:00 on the date)
        deadlines = {x: t0 - timedelta(days=30) for x in dates} if batch == "a-late" else {}
        with store.write() as w:
            w.record_intents([intent], t0)
            outcome = Outcome(
                success=ok,
                ended_at=t0 + timedelta(minutes=len(done)),
                error=error,
                platform_run_id=f"p-{batch}",
            )
            w.record_outcomes([(_batch(intent, t0), outcome, deadlines)])
    with store.write() as w:  # started, not finished
        w.record_intents([_intent("a-flight", "alpha", span("2026-03-13", "2026-03-14"))], t0)


# --- PNG: enough of a decoder to tell a blank screenshot from a drawn one --------------------


def png_pixels(data: bytes, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``max_rows`` unfiltered rows of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    stride = width * channels
    rows_wanted = min(max_rows, height)
    raw = zlib.decompressobj().decompress(idat, rows_wanted * (stride + 1))
    rows: list[bytes] = []
    prev = bytearray(stride)
    for r in range(rows_wanted):
        line = raw[r * (stride + 1) : (r + 1) * (stride + 1)]
        kind, cur = line[0], bytearray(line[1:])
        for i in range(stride):
            left = cur[i - channels] if i >= channels else 0
            up = prev[i]
            if kind == 1:
                cur[i] = (cur[i] + left) & 0xFF
            elif kind == 2:
                cur[i] = (cur[i] + up) & 0xFF
            elif kind == 3:
                cur[i] = (cur[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                ul = prev[i - channels] if i >= channels else 0
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                cur[i] = (cur[i] + pred) & 0xFF
        rows.append(bytes(cur if channels == 3 else _rgb(cur)))
        prev = cur
    return width, height, rows


def _rgb(rgba: bytearray) -> bytearray:
    out = bytearray()
    for i in range(0, len(rgba), 4):
        out += rgba[i : i + 3]
    return out
