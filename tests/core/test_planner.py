"""What the plan decides (docs/planning.md), table-driven from plain data: no store, no clock.

Each case is a pipeline, its observed state and ``now``; the expected plan is written
as short lines (``kind pipeline dates extras``) straight from docs/planning.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from reconciler.core.applied import AppliedConfigs
from reconciler.core.coverage import Failed, InFlight, Observed, PipelineObserved
from reconciler.core.intervals import DateRange
from reconciler.core.plan import Plan
from reconciler.core.planner import plan
from reconciler.core.spec import BackfillRequest, PipelineSpec, RetryPolicy, Schedule, with_adhoc
from reconciler.render.dates import compress
from reconciler.render.plan_json import plan_from_dict, plan_to_dict
from reconciler.render.plan_schema import plan_problems

D = date.fromisoformat
NOW = "2024-01-10T12:00"  # daily from 2024-01-01 at 00:00 UTC: 01-01..01-10 are due
FIVE_MIN = RetryPolicy()  # every 5 minutes, 2 retries


def utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def span(text: str) -> DateRange:
    first, _, last = text.partition("..")
    return D(first), D(last or first)


def dates_of(text: str) -> list[date]:
    out: list[date] = []
    for part in text.split(","):
        first, last = span(part)
        out += [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return out


def fmt(dates: tuple[date, ...] | list[date]) -> str:
    runs = compress(dates)
    return ",".join(f"{a}..{b}" if n > 1 else str(a) for a, b, n in runs)


def spec(pid: str = "p", schedule: Schedule | None = None, **kw: Any) -> PipelineSpec:
    return PipelineSpec(
        id=pid, schedule=schedule or Schedule(type="daily", start=D("2024-01-01")), **kw
    )


def state(
    covered: str = "",
    failed: Mapping[str, Failed] | None = None,
    in_flight: Mapping[str, InFlight] | None = None,
    done: Mapping[str, str] | None = None,
    sla_since: str | None = None,
    sla_recorded: str = "",
) -> PipelineObserved:
    """One pipeline's state; dates and ranges written as ``a..b,c``."""
    return PipelineObserved(
        covered=tuple(span(p) for p in covered.split(",") if p),
        failed={d: f for text, f in (failed or {}).items() for d in dates_of(text)},
        in_flight={d: f for text, f in (in_flight or {}).items() for d in dates_of(text)},
        request_done={rid: tuple(span(p) for p in r.split(",")) for rid, r in (done or {}).items()},
        sla_since=utc(sla_since) if sla_since else None,
        sla_recorded=frozenset(dates_of(sla_recorded)) if sla_recorded else frozenset(),
    )


def check(result: Plan) -> Plan:
    """Every plan made here must match the published JSON schema and read back whole."""
    document = plan_to_dict(result)
    assert plan_problems(document) == []
    assert plan_from_dict(document) == result
    return result


def show(result: Plan) -> list[str]:
    """The plan as short lines, in its order: actions, then waiting, gaps, SLA breaches."""
    lines = []
    for a in result.actions:
        extra = {
            "poll": f" run={a.run_id}",
            "retry": f" attempt={a.attempt}",
            "notify": f" event={a.event}",
        }.get(a.kind, "")
        if a.kind == "backfill":
            extra = f" p={a.priority}" + (f" req={a.request_id}" if a.request_id else "")
        lines.append(f"{a.kind} {a.pipeline_id} {fmt(a.dates)}{extra}")
    for w in result.waiting:
        lines.append(
            f"waiting {w.pipeline_id} {fmt(w.dates)} at={w.next_retry_at:%m-%dT%H:%M:%S}"
            f" attempt={w.attempt}"
        )
    lines += [f"gap {g.pipeline_id} {fmt(g.dates)} {g.reason}" for g in result.gaps]
    lines += [f"sla {b.pipeline_id} {b.date} {b.deadline:%m-%dT%H:%M}" for b in result.sla_breaches]
    return lines


def plan_one(p: PipelineSpec, s: PipelineObserved | None = None, now: str = NOW) -> list[str]:
    result = check(plan([p], Observed({p.id: s} if s else {}), utc(now)))
    return show(result)


def backfills(first: str, last: str, pid: str = "p", extra: str = " p=0") -> list[str]:
    return [f"backfill {pid} {d}{extra}" for d in dates_of(f"{first}..{last}")]


def fail(attempt: int, ended: str = "2024-01-10T11:00", request_id: str | None = None) -> Failed:
    return Failed(attempt=attempt, ended_at=utc(ended), request_id=request_id)


# --- one kind per date --------------------------------------------------------------------

KIND_CASES = [
    pytest.param(
        spec(), None, ["run p 2024-01-10", *backfills("2024-01-01", "2024-01-09")], id="empty"
    ),
    pytest.param(spec(), state("2024-01-01..2024-01-10"), [], id="all-covered"),
    pytest.param(
        spec(),
        state("2024-01-01..2024-01-09", in_flight={"2024-01-10": InFlight(run_id="r1")}),
        ["poll p 2024-01-10 run=r1"],
        id="in-flight-latest-is-polled-not-run",
    ),
    pytest.param(
        spec(),
        state(
            "2024-01-01..2024-01-04,2024-01-07..2024-01-10",
            in_flight={"2024-01-05..2024-01-06": InFlight(run_id="r2", attempt=2)},
        ),
        ["poll p 2024-01-05..2024-01-06 run=r2"],
        id="multi-date-run-in-flight-polled-once",
    ),
    pytest.param(
        spec(),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(1, "2024-01-10T11:55")}),
        ["retry p 2024-01-10 attempt=2"],
        id="retry-exactly-at-delay",
    ),
    pytest.param(
        spec(),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(1, "2024-01-10T11:54:59")}),
        ["retry p 2024-01-10 attempt=2"],
        id="retry-one-second-after-delay",
    ),
    pytest.param(
        spec(),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(1, "2024-01-10T11:55:01")}),
        ["waiting p 2024-01-10 at=01-10T12:00:01 attempt=2"],
        id="waiting-one-second-before-delay",
    ),
    pytest.param(
        spec(),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(2, "2024-01-10T11:56")}),
        ["waiting p 2024-01-10 at=01-10T12:01:00 attempt=3"],
        id="waiting-second-retry",
    ),
    pytest.param(
        spec(),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(3)}),
        ["gap p 2024-01-10 retries_exhausted"],
        id="retries-exhausted-after-max",
    ),
    pytest.param(
        spec(retry=RetryPolicy(enabled=False)),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(1, "2024-01-01")}),
        ["gap p 2024-01-10 retries_exhausted"],
        id="retry-disabled-is-a-gap",
    ),
    pytest.param(
        spec(retry=RetryPolicy(max_retries=0)),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(1, "2024-01-01")}),
        ["gap p 2024-01-10 retries_exhausted"],
        id="zero-retries-is-a-gap",
    ),
    pytest.param(
        spec(),
        state("2024-01-01..2024-01-08", failed={"2024-01-10": fail(1, "2024-01-01")}),
        ["retry p 2024-01-10 attempt=2", "backfill p 2024-01-09 p=0"],
        id="only-a-never-attempted-latest-is-run",
    ),
    pytest.param(
        spec(retry=RetryPolicy(enabled=False)),
        state(
            "2024-01-01,2024-01-03..2024-01-05,2024-01-07..2024-01-10",
            failed={"2024-01-02,2024-01-06": fail(1, "2024-01-01")},
        ),
        ["gap p 2024-01-02 retries_exhausted", "gap p 2024-01-06 retries_exhausted"],
        id="every-hole-a-failure-no-backfill",  # (an imported history)
    ),
    pytest.param(
        spec(retry=RetryPolicy(enabled=False)),
        state(
            "2024-01-01,2024-01-04..2024-01-05,2024-01-07..2024-01-09",
            failed={"2024-01-02,2024-01-06": fail(1, "2024-01-01")},
        ),
        [
            "run p 2024-01-10",
            "backfill p 2024-01-03 p=0",
            "gap p 2024-01-02 retries_exhausted",
            "gap p 2024-01-06 retries_exhausted",
        ],
        id="failures-and-one-plain-hole",
    ),
    pytest.param(
        spec(retry=RetryPolicy(enabled=False)),
        state("2024-01-02..2024-01-09", failed={"2024-01-01,2024-01-10": fail(1, "2024-01-01")}),
        ["gap p 2024-01-01 retries_exhausted", "gap p 2024-01-10 retries_exhausted"],
        id="failed-first-and-latest-dates",
    ),
    pytest.param(
        spec(auto_backfill=False),
        state("2024-01-01..2024-01-03,2024-01-06"),
        [
            "run p 2024-01-10",
            "gap p 2024-01-04..2024-01-05 auto_backfill_disabled",
            "gap p 2024-01-07..2024-01-09 auto_backfill_disabled",
        ],
        id="auto-backfill-disabled-gaps-split-by-covered-date",
    ),
    pytest.param(
        spec(auto_backfill=False),
        state("2024-01-01..2024-01-08", failed={"2024-01-09": fail(1, "2024-01-01")}),
        ["retry p 2024-01-09 attempt=2", "run p 2024-01-10"],
        id="auto-backfill-off-still-retries",
    ),
    pytest.param(
        spec(schedule=Schedule(type="daily", start=D("2024-02-01"))),
        None,
        [],
        id="start-in-the-future",
    ),
    pytest.param(
        spec(schedule=Schedule(type="daily", start=D("2024-01-01"), end=D("2024-01-05"))),
        None,
        ["run p 2024-01-05", *backfills("2024-01-01", "2024-01-04")],
        id="end-is-inclusive-and-latest",
    ),
    pytest.param(
        spec(schedule=Schedule(type="daily", start=D("2024-01-01"), offset=1, at=time(6))),
        None,
        ["run p 2024-01-09", *backfills("2024-01-01", "2024-01-08")],
        id="offset-and-at-delay-due",
    ),
]


@pytest.mark.parametrize(("p", "s", "expected"), KIND_CASES)
def test_each_uncovered_due_date_gets_one_kind(
    p: PipelineSpec, s: PipelineObserved | None, expected: list[str]
) -> None:
    assert plan_one(p, s) == expected


@pytest.mark.parametrize(
    ("ended", "attempt", "expected"),
    [
        # exponential 1 minute up to 10 minutes: retry k waits 60 * 2**(k-1), at most 600
        ("2024-01-10T11:59:00", 1, "retry"),
        ("2024-01-10T11:59:01", 1, "waiting 12:00:01"),
        ("2024-01-10T11:58:00", 2, "retry"),
        ("2024-01-10T11:58:01", 2, "waiting 12:00:01"),
        ("2024-01-10T11:56:00", 3, "retry"),
        ("2024-01-10T11:56:01", 3, "waiting 12:00:01"),
        ("2024-01-10T11:52:00", 4, "retry"),
        ("2024-01-10T11:52:01", 4, "waiting 12:00:01"),
        ("2024-01-10T11:50:00", 5, "retry"),  # 960 s capped at 600
        ("2024-01-10T11:50:01", 5, "waiting 12:00:01"),
        ("2024-01-10T11:00:00", 6, "gap"),  # 5 retries made
    ],
)
def test_exponential_retry_delay_is_capped(ended: str, attempt: int, expected: str) -> None:
    policy = RetryPolicy(
        enabled=True,
        kind="exponential",
        base_seconds=60,
        cap_seconds=600,
        max_retries=5,
        text="exponential 1 minute up to 10 minutes",
    )
    lines = plan_one(
        spec(retry=policy),
        state("2024-01-01..2024-01-09", failed={"2024-01-10": fail(attempt, ended)}),
    )
    kind, _, rest = expected.partition(" ")
    if kind == "retry":
        assert lines == [f"retry p 2024-01-10 attempt={attempt + 1}"]
    elif kind == "waiting":
        assert lines == [f"waiting p 2024-01-10 at=01-10T{rest} attempt={attempt + 1}"]
    else:
        assert lines == ["gap p 2024-01-10 retries_exhausted"]


def test_fixed_delay_is_measured_from_the_failed_attempts_end() -> None:
    policy = RetryPolicy(
        enabled=True,
        kind="fixed",
        base_seconds=3600,
        cap_seconds=None,
        max_retries=3,
        text="every 1 hour",
    )
    s = state(
        "2024-01-01..2024-01-07",
        failed={
            "2024-01-08": fail(1, "2024-01-10T11:00"),
            "2024-01-09": fail(3, "2024-01-10T11:30"),
        },
        in_flight={"2024-01-10": InFlight(run_id="r9")},
    )
    assert plan_one(spec(retry=policy), s) == [
        "poll p 2024-01-10 run=r9",
        "retry p 2024-01-08 attempt=2",
        "waiting p 2024-01-09 at=01-10T12:30:00 attempt=4",
    ]


# --- backfill requests ---------------------------------------------------------------------

REQ = BackfillRequest(
    id="fix-1", start=D("2024-01-03"), end=D("2024-01-05"), priority=10, reason="bug fixed"
)

REQUEST_CASES = [
    pytest.param(
        spec(requests=(REQ,)),
        state("2024-01-01..2024-01-10"),
        backfills("2024-01-03", "2024-01-05", extra=" p=10 req=fix-1"),
        id="re-runs-covered-dates",
    ),
    pytest.param(
        spec(requests=(REQ,)),
        state("2024-01-01..2024-01-10", done={"fix-1": "2024-01-03..2024-01-05"}),
        [],
        id="once-per-id",
    ),
    pytest.param(
        spec(requests=(REQ,)),
        state("2024-01-01..2024-01-10", done={"fix-1": "2024-01-04"}),
        ["backfill p 2024-01-03 p=10 req=fix-1", "backfill p 2024-01-05 p=10 req=fix-1"],
        id="partly-done",
    ),
    pytest.param(
        spec(requests=(REQ,), auto_backfill=False),
        state(
            "2024-01-01..2024-01-02,2024-01-06..2024-01-09",
            failed={"2024-01-04": fail(1, "2024-01-01"), "2024-01-05": fail(3, "2024-01-01")},
        ),
        ["run p 2024-01-10", *backfills("2024-01-03", "2024-01-05", extra=" p=10 req=fix-1")],
        id="overrides-retry-gap-and-auto-backfill-off",
    ),
    pytest.param(
        spec(requests=(BackfillRequest(id="late", start=D("2024-01-09"), end=D("2024-03-01")),)),
        state("2024-01-01..2024-01-08"),
        ["backfill p 2024-01-09 p=0 req=late", "backfill p 2024-01-10 p=0 req=late"],
        id="only-due-dates-latest-included",
    ),
    pytest.param(
        spec(requests=(BackfillRequest(id="early", start=D("2023-06-01"), end=D("2024-01-01")),)),
        state("2024-01-01..2024-01-10"),
        ["backfill p 2024-01-01 p=0 req=early"],
        id="only-scheduled-dates-from-start",
    ),
    pytest.param(
        spec(requests=(REQ,)),
        state(
            "2024-01-01..2024-01-10",
            in_flight={"2024-01-04": InFlight(run_id="r1", attempt=1, request_id="fix-1")},
        ),
        [
            "poll p 2024-01-04 run=r1",
            "backfill p 2024-01-03 p=10 req=fix-1",
            "backfill p 2024-01-05 p=10 req=fix-1",
        ],
        id="in-flight-not-claimed",
    ),
    pytest.param(
        spec(
            requests=(
                BackfillRequest(id="low", start=D("2024-01-01"), end=D("2024-01-05"), priority=1),
                BackfillRequest(id="high", start=D("2024-01-04"), end=D("2024-01-07"), priority=5),
            )
        ),
        state("2024-01-01..2024-01-10"),
        [
            *backfills("2024-01-04", "2024-01-07", extra=" p=5 req=high"),
            *backfills("2024-01-01", "2024-01-03", extra=" p=1 req=low"),
        ],
        id="overlap-higher-priority-wins",
    ),
    pytest.param(
        spec(requests=(REQ,)),
        state(
            "2024-01-01..2024-01-03,2024-01-05..2024-01-09",
            failed={"2024-01-04": fail(1, "2024-01-01", "fix-1")},
            done={"fix-1": "2024-01-03..2024-01-05"},
        ),
        ["retry p 2024-01-04 attempt=2", "run p 2024-01-10"],
        id="done-request-dates-follow-the-normal-rules",
    ),
]


@pytest.mark.parametrize(("p", "s", "expected"), REQUEST_CASES)
def test_backfill_requests(p: PipelineSpec, s: PipelineObserved, expected: list[str]) -> None:
    assert plan_one(p, s) == expected


def test_request_backfill_carries_its_id_reason_and_priority() -> None:
    result = check(
        plan([spec(requests=(REQ,))], Observed({"p": state("2024-01-01..2024-01-10")}), utc(NOW))
    )
    first = result.actions[0]
    assert (first.request_id, first.reason, first.priority, first.attempt) == (
        "fix-1",
        "bug fixed",
        10,
        1,
    )


def test_retry_of_a_request_run_keeps_the_request_id() -> None:
    s = state(
        "2024-01-01..2024-01-09",
        failed={"2024-01-10": fail(1, "2024-01-01", "fix-1")},
        done={"fix-1": "2024-01-03..2024-01-05,2024-01-10"},
    )
    result = check(plan([spec(requests=(REQ,))], Observed({"p": s}), utc(NOW)))
    assert [(a.kind, a.request_id) for a in result.actions] == [("retry", "fix-1")]


# --- batching -----------------------------------------------------------------------------

WEEKLY_MON_WED = Schedule(
    type="weekly", start=D("2024-01-01"), days=(0, 2)
)  # 2024-01-01 is a Monday

BATCH_CASES = [
    pytest.param(
        spec(multi_date=True, max_dates=4),
        None,
        [
            "run p 2024-01-10",
            "backfill p 2024-01-01..2024-01-04 p=0",
            "backfill p 2024-01-05..2024-01-08 p=0",
            "backfill p 2024-01-09 p=0",
        ],
        "2024-01-10T12:00",
        id="max-dates",
    ),
    pytest.param(
        spec(multi_date=True, max_dates=4),
        state("2024-01-05,2024-01-10"),
        ["backfill p 2024-01-01..2024-01-04 p=0", "backfill p 2024-01-06..2024-01-09 p=0"],
        "2024-01-10T12:00",
        id="covered-hole-breaks-a-batch",
    ),
    pytest.param(
        spec(multi_date=True, max_dates=31),
        state("2024-01-10", in_flight={"2024-01-03": InFlight(run_id="r1")}),
        [
            "poll p 2024-01-03 run=r1",
            "backfill p 2024-01-01..2024-01-02 p=0",
            "backfill p 2024-01-04..2024-01-09 p=0",
        ],
        "2024-01-10T12:00",
        id="in-flight-hole-breaks-a-batch",
    ),
    pytest.param(
        spec(multi_date=True, max_dates=4, order="newest_first"),
        None,
        [
            "run p 2024-01-10",
            "backfill p 2024-01-06..2024-01-09 p=0",
            "backfill p 2024-01-02..2024-01-05 p=0",
            "backfill p 2024-01-01 p=0",
        ],
        "2024-01-10T12:00",
        id="newest-first-batches-start-from-newest",
    ),
    pytest.param(
        spec(order="newest_first"),
        state("2024-01-01..2024-01-06"),
        [
            "run p 2024-01-10",
            "backfill p 2024-01-09 p=0",
            "backfill p 2024-01-08 p=0",
            "backfill p 2024-01-07 p=0",
        ],
        "2024-01-10T12:00",
        id="newest-first-single-dates",
    ),
    pytest.param(
        spec(schedule=WEEKLY_MON_WED, multi_date=True, max_dates=4),
        state("2024-01-31"),
        [
            "backfill p 2024-01-01,2024-01-03,2024-01-08,2024-01-10 p=0",
            "backfill p 2024-01-15,2024-01-17,2024-01-22,2024-01-24 p=0",
            "backfill p 2024-01-29 p=0",
        ],
        "2024-02-01T12:00",
        id="weekly-consecutive-scheduled-not-consecutive-days",
    ),
    pytest.param(
        spec(schedule=WEEKLY_MON_WED, multi_date=True, max_dates=10),
        state("2024-01-10,2024-01-31"),
        [
            "backfill p 2024-01-01,2024-01-03,2024-01-08 p=0",
            "backfill p 2024-01-15,2024-01-17,2024-01-22,2024-01-24,2024-01-29 p=0",
        ],
        "2024-02-01T12:00",
        id="weekly-hole-breaks-a-batch",
    ),
    pytest.param(
        spec(multi_date=True, requests=(REQ,)),
        state("2024-01-10"),
        [
            "backfill p 2024-01-03..2024-01-05 p=10 req=fix-1",
            "backfill p 2024-01-01..2024-01-02 p=0",
            "backfill p 2024-01-06..2024-01-09 p=0",
        ],
        "2024-01-10T12:00",
        id="request-and-auto-backfill-batch-apart",
    ),
    pytest.param(
        spec(multi_date=True),
        state(
            "2024-01-01,2024-01-05..2024-01-10",
            failed={
                "2024-01-02..2024-01-03": fail(1, "2024-01-01"),
                "2024-01-04": fail(2, "2024-01-01"),
            },
        ),
        ["retry p 2024-01-02..2024-01-03 attempt=2", "retry p 2024-01-04 attempt=3"],
        "2024-01-10T12:00",
        id="retries-batch-by-attempt",
    ),
]


@pytest.mark.parametrize(("p", "s", "expected", "now"), BATCH_CASES)
def test_batching(
    p: PipelineSpec, s: PipelineObserved | None, expected: list[str], now: str
) -> None:
    assert plan_one(p, s, now) == expected


# --- ordering across pipelines ------------------------------------------------------------


def test_order_poll_retry_run_then_backfill_by_priority_then_order() -> None:
    pipelines = [
        spec("a", priority=0),
        spec("b", priority=5),
        spec("c", priority=5, order="newest_first"),
    ]
    observed = Observed(
        {
            "a": state("2024-01-01..2024-01-07", in_flight={"2024-01-10": InFlight(run_id="ra")}),
            "b": state(
                "2024-01-01..2024-01-06,2024-01-10", failed={"2024-01-09": fail(1, "2024-01-01")}
            ),
            "c": state("2024-01-01..2024-01-07"),
        }
    )
    assert show(check(plan(pipelines, observed, utc(NOW)))) == [
        "poll a 2024-01-10 run=ra",
        "retry b 2024-01-09 attempt=2",
        "run c 2024-01-10",
        "backfill b 2024-01-07 p=5",
        "backfill c 2024-01-09 p=5",
        "backfill b 2024-01-08 p=5",
        "backfill c 2024-01-08 p=5",
        "backfill a 2024-01-08 p=0",
        "backfill a 2024-01-09 p=0",
    ]


def test_request_priority_orders_against_other_pipelines() -> None:
    pipelines = [
        spec("a", priority=3),
        spec(
            "b",
            requests=(
                BackfillRequest(id="r", start=D("2024-01-02"), end=D("2024-01-02"), priority=7),
            ),
        ),
    ]
    observed = Observed(
        {"a": state("2024-01-01..2024-01-08,2024-01-10"), "b": state("2024-01-01..2024-01-10")}
    )
    assert show(check(plan(pipelines, observed, utc(NOW)))) == [
        "backfill b 2024-01-02 p=7 req=r",
        "backfill a 2024-01-09 p=3",
    ]


# --- SLA ----------------------------------------------------------------------------------

SLA = time(6)

SLA_CASES = [
    pytest.param(
        spec(sla_time=SLA),
        state(sla_since="2024-01-05T00:00"),
        "2024-01-10T12:00",
        ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09", "2024-01-10"],
        id="deadlines-after-sla-since",
    ),
    pytest.param(
        spec(sla_time=SLA),
        state(sla_since="2024-01-05T06:00"),
        "2024-01-07T06:00",
        ["2024-01-06", "2024-01-07"],
        id="deadline-equal-to-since-is-history-equal-to-now-is-breach",
    ),
    pytest.param(
        spec(sla_time=SLA),
        state(sla_since="2024-01-05T00:00"),
        "2024-01-07T05:59:59",
        ["2024-01-05", "2024-01-06"],
        id="one-second-before-deadline",
    ),
    pytest.param(
        spec(sla_time=SLA),
        state("2024-01-06,2024-01-08", sla_since="2024-01-05T00:00", sla_recorded="2024-01-09"),
        "2024-01-10T12:00",
        ["2024-01-05", "2024-01-07", "2024-01-10"],
        id="covered-and-recorded-dates-are-not-breaches",
    ),
    pytest.param(
        spec(
            schedule=Schedule(
                type="daily", start=D("2024-01-01"), at=time(23, 59), timezone="Etc/GMT+12"
            ),
            sla_time=time(23, 58),
        ),
        # 2024-01-05 is due 01-06T11:59Z; its deadline is 01-07T11:58Z, after this instant
        state(sla_since="2024-01-08T01:00+14:00"),
        "2024-01-07T12:00",
        ["2024-01-05"],
        id="sla-since-in-another-zone",
    ),
    pytest.param(spec(sla_time=SLA), state(), "2024-01-10T12:00", [], id="no-sla-since-no-breach"),
    pytest.param(
        spec(), state(sla_since="2024-01-05T00:00"), "2024-01-10T12:00", [], id="no-sla-no-breach"
    ),
    pytest.param(
        spec(schedule=Schedule(type="daily", start=D("2024-01-01"), at=time(8)), sla_time=SLA),
        state(sla_since="2024-01-05T00:00"),
        "2024-01-10T12:00",
        ["2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09"],
        id="sla-not-after-due-moves-a-day",
    ),
    pytest.param(
        spec(
            schedule=Schedule(
                type="daily", start=D("2024-01-01"), offset=1, timezone="Europe/Berlin"
            ),
            sla_time=SLA,
        ),
        state(sla_since="2024-01-05T00:00"),
        "2024-01-10T05:00",
        ["2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09"],
        id="offset-and-timezone",
    ),
]


@pytest.mark.parametrize(("p", "s", "now", "expected"), SLA_CASES)
def test_sla_breaches(p: PipelineSpec, s: PipelineObserved, now: str, expected: list[str]) -> None:
    result = check(plan([p], Observed({p.id: s}), utc(now)))
    assert [str(b.date) for b in result.sla_breaches] == expected
    for breach in result.sla_breaches:
        assert s.sla_since is not None and s.sla_since < breach.deadline <= utc(now)
    assert not any(a.kind == "notify" for a in result.actions)


def test_sla_deadline_values_and_notify_action() -> None:
    p = spec(sla_time=SLA, sla_notify=True)
    s = state("2024-01-01..2024-01-08", sla_since="2024-01-05T00:00", sla_recorded="2024-01-09")
    assert show(check(plan([p], Observed({"p": s}), utc(NOW)))) == [
        "run p 2024-01-10",
        "backfill p 2024-01-09 p=0",
        "notify p 2024-01-10 event=sla_breach",
        "sla p 2024-01-10 01-10T06:00",
    ]


def test_in_flight_date_past_its_deadline_is_a_breach() -> None:
    p = spec(sla_time=SLA)
    s = state(
        "2024-01-01..2024-01-09",
        in_flight={"2024-01-10": InFlight(run_id="r")},
        sla_since="2024-01-01T00:00",
    )
    assert plan_one(p, s) == ["poll p 2024-01-10 run=r", "sla p 2024-01-10 01-10T06:00"]


# --- config changes -----------------------------------------------------------------------

A = {"id": "a", "retry.max_retries": 3, "schedule.days": [1, 2]}


@pytest.mark.parametrize(
    ("desired", "applied", "deleted", "expected"),
    [
        ({"a": A}, {}, set(), [("a", "create", {})]),
        ({"a": A}, {"a": A}, set(), []),
        (
            {"a": {**A, "retry.max_retries": 5, "schedule.days": [1]}},
            {"a": A},
            set(),
            [("a", "update", {"retry.max_retries": (3, 5), "schedule.days": ([1, 2], [1])})],
        ),
        (
            {"a": {**A, "sla.time": "06:00"}},
            {"a": A},
            set(),
            [("a", "update", {"sla.time": (None, "06:00")})],
        ),
        ({}, {"a": A}, set(), [("a", "delete", {})]),
        ({}, {"a": A}, {"a"}, []),
        ({"a": A}, {"a": A}, {"a"}, [("a", "create", {})]),
        (
            {"b": A, "c": A},
            {"a": A, "c": {**A, "id": "x"}},
            set(),
            [("a", "delete", {}), ("b", "create", {}), ("c", "update", {"id": ("x", "a")})],
        ),
    ],
    ids=[
        "create",
        "same",
        "update",
        "added-field",
        "delete",
        "deleted-not-again",
        "re-create",
        "mixed",
    ],
)
def test_config_changes(
    desired: dict[str, dict[str, Any]],
    applied: dict[str, dict[str, Any]],
    deleted: set[str],
    expected: list[tuple[str, str, dict[str, Any]]],
) -> None:
    pipelines = [spec(pid) for pid in desired]
    observed = Observed(applied_config=AppliedConfigs.parsed(applied), deleted=frozenset(deleted))
    result = check(plan(pipelines, observed, utc("2023-01-01T00:00"), desired))
    assert [(c.pipeline_id, c.change, dict(c.fields)) for c in result.config_changes] == expected
    assert result.has_changes == bool(expected)


def test_no_desired_config_means_no_config_changes() -> None:
    result = plan([spec("a")], Observed(applied_config=AppliedConfigs.parsed({"b": A})), utc(NOW))
    assert result.config_changes == ()


# --- the plan as a value ------------------------------------------------------------------


def test_summary_counts_dates_and_has_changes() -> None:
    p = spec(multi_date=True, auto_backfill=False)
    s = state(
        "2024-01-01..2024-01-02",
        failed={"2024-01-03": fail(3)},
        in_flight={"2024-01-04..2024-01-05": InFlight(run_id="r")},
    )
    result = check(
        plan(
            [p, spec("q", schedule=Schedule(type="daily", start=D("2030-01-01")))],
            Observed({"p": s}),
            utc(NOW),
        )
    )
    assert result.summary == {
        "pipelines": 2,
        "run": 1,
        "retry": 0,
        "backfill": 0,
        "refresh": 0,
        "poll": 2,
        "waiting": 0,
        "gap": 5,
    }
    assert result.has_changes


def test_nothing_due_is_no_change() -> None:
    result = check(
        plan([spec(schedule=Schedule(type="daily", start=D("2030-01-01")))], Observed(), utc(NOW))
    )
    assert result.actions == () and not result.has_changes
    assert result.summary["pipelines"] == 1


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan([spec()], Observed(), datetime(2024, 1, 10))


def test_ad_hoc_requests_follow_the_declared_ones() -> None:
    declared = BackfillRequest(id="declared", start=D("2024-01-02"), end=D("2024-01-03"))
    adhoc = BackfillRequest(id="adhoc-1", start=D("2024-01-05"), end=D("2024-01-05"), priority=4)
    p, q = spec("p", requests=(declared,)), spec("q")
    got = with_adhoc([p, q], {"p": (adhoc,), "gone": (adhoc,)})
    assert [s.requests for s in got] == [(declared, adhoc), ()]
    assert got[1] is q  # untouched specs are not copied
