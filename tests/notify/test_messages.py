"""Grouping and words: one message per burst, Slack's limits, the webhook document."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import date

from notify_helpers import NOW, failure_rows, one_message, row

from reconciler.notify import slack, webhook
from reconciler.notify.messages import build_messages, ranges


def test_forty_failed_dates_make_one_message_with_ranges() -> None:
    rows = failure_rows(40)
    message = one_message(rows)
    assert message.title == "orders: 40 dates failed and will not be retried"
    assert message.lines == ("2026-01-01..2026-02-09 (40 dates) after 3 attempts: exit 1: boom",)
    assert len(message.dates) == 40
    assert message.delivery_id == one_message(list(reversed(rows))).delivery_id


def test_groups_split_by_pipeline_event_channel_and_request() -> None:
    rows = [
        *failure_rows(3),
        *failure_rows(2, channel="stdout"),
        *failure_rows(2, pid="other"),
        row("backfill_complete", None, details={"request_id": "a", "dates": 1}),
        row("backfill_complete", None, details={"request_id": "b", "dates": 1}),
    ]
    messages = build_messages(rows, {}, {})
    keys = sorted((m.pipeline_id, m.event, m.channel, len(m.rows)) for m in messages)
    assert keys == [
        ("orders", "backfill_complete", "slack:SLACK_URL", 1),
        ("orders", "backfill_complete", "slack:SLACK_URL", 1),
        ("orders", "failure", "slack:SLACK_URL", 3),
        ("orders", "failure", "stdout", 2),
        ("other", "failure", "slack:SLACK_URL", 2),
    ]


def test_ranges_follow_the_schedule_and_stop_after_eight_runs() -> None:
    every_other = [date(2026, 1, 1 + 2 * i) for i in range(5)]
    assert ranges(every_other) == ", ".join(d.isoformat() for d in every_other)

    def step(d: date) -> date:
        return date.fromordinal(d.toordinal() + 2)

    assert ranges(every_other, step) == "2026-01-01..2026-01-09 (5 dates)"
    singles = [date(2026, 1, 1 + 2 * i) for i in range(12)]
    assert ranges(singles).endswith(", +4 more dates")


def test_breach_and_quality_words() -> None:
    breach = row(
        "sla_breach",
        date(2026, 11, 30),
        details={"deadline": "2026-12-01T14:00:00+00:00", "timezone": "America/New_York"},
    )
    assert one_message([breach]).lines == (
        "2026-11-30: deadline 2026-12-01 09:00 America/New_York (14:00 UTC) passed without "
        "a successful run",
    )
    check = {"summary": "rows failed: 2 failing rows", "on_fail": "warn"}
    quality = [
        row("quality_failure", date(2026, 1, d), details={"checks": [check]}) for d in (1, 2)
    ]
    message = one_message(quality)
    assert message.title == "orders: quality checks failed for 2 dates"
    assert message.lines == (
        "2026-01-01..2026-01-02 (2 dates): rows failed: 2 failing rows (a warning; the dates "
        "count as covered)",
    )


def test_slack_payload_stays_within_limits() -> None:
    base = one_message(failure_rows(1))
    lines = tuple(f"line {i}: " + "x<" * 700 for i in range(400))  # escaped: over 2,800 each
    message = dataclasses.replace(base, title="t" * 300, lines=lines)
    payload = slack.payload(message)
    assert payload["text"] and len(payload["text"]) <= 3000
    blocks = payload["blocks"]
    assert len(blocks) == 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in sections)
    assert sections[-1] == "… and 353 more line(s)"
    assert len(blocks[0]["text"]["text"]) <= 150


def test_long_messages_group_the_rest_of_the_errors() -> None:
    rows = [
        row("failure", date.fromordinal(date(2026, 1, 1).toordinal() + i),
            details={"error": f"error {i}", "attempts": 1})
        for i in range(40)
    ]  # fmt: skip
    lines = one_message(rows).lines
    assert len(lines) == 6
    assert lines[-1] == "and 35 more dates with other errors: 2026-01-06..2026-02-09 (35 dates)"


def test_slack_text_escapes_control_characters() -> None:
    rows = [row("failure", date(2026, 1, 1), details={"error": "a < b && c > d"})]
    payload = slack.payload(one_message(rows))
    assert "a &lt; b &amp;&amp; c &gt; d" in payload["text"]


def test_webhook_document_and_signature() -> None:
    message = one_message(failure_rows(2))
    document = webhook.document(message, NOW)
    assert document["format_version"] == 1
    assert document["event"] == "failure"
    assert document["pipeline"] == {"id": "orders", "name": "Orders daily"}
    assert document["dates"] == ["2026-01-01", "2026-01-02"]
    assert [n["date"] for n in document["notifications"]] == ["2026-01-01", "2026-01-02"]
    assert document["notifications"][0]["details"]["error"] == "exit 1: boom"
    assert document["truncated"] is False
    json.dumps(document)  # serialisable as it is
    body = b'{"a": 1}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhook.signature("s3cret", "1700000000", body) == f"sha256={expected}"
