"""The HTML report: well-formed, self-contained, and saying what the state says.

The state is written through the store's own writer (as ``apply`` writes it), the
report made by the ``report`` command, driven with click's runner.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_support import HOSTILE, NOW, write_config, write_state

from reconciler.commands.report import report
from reconciler.errors import PlanError

VOID = {"meta", "link", "br", "img", "input", "hr", "area", "base", "col", "source", "wbr"}


class Checker(HTMLParser):
    """Collects tags, attributes and <title> texts; records nesting errors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str]] = []
        self.calendars: list[str] = []
        self.titles: list[tuple[str, str]] = []  # (calendar's pipeline, text)
        self._text: list[str] | None = None
        self._svg = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "title":
            self._text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "title" and self._text is not None:
            self.titles.append((self._svg, "".join(self._text)))
            self._text = None
        if tag == "svg":
            self._svg = ""

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def _record(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        values = dict(attrs)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag == "svg" and values.get("class") == "calendar":
            self.calendars.append(values.get("data-pipeline") or "")
            self._svg = self.calendars[-1]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Config dir, state and the report made from them by ``reconciler report``."""
    root = tmp_path_factory.mktemp("report")
    write_config(root / "pipelines.d")
    write_state(root / "state.duckdb")
    out = root / "out" / "report.html"
    args = ["--config-dir", str(root / "pipelines.d"), "--state", str(root / "state.duckdb")]
    result = CliRunner().invoke(report, [*args, "--now", NOW.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out}: 3 pipeline(s)")
    return root / "pipelines.d", root / "state.duckdb", out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parsed(made: tuple[Path, Path, str]) -> Checker:
    checker = Checker()
    checker.feed(made[2])
    checker.close()
    return checker


def tooltip(checker: Checker, day: str, pipeline: str = "alpha") -> str:
    found = [t for p, t in checker.titles if p == pipeline and t.startswith(day)]
    assert len(found) == 1, (day, found)
    return found[0]


def test_well_formed(parsed: Checker) -> None:
    assert parsed.errors == []
    assert parsed.stack == []
    assert parsed.tags["html"] == parsed.tags["body"] == 1


def test_self_contained(made: tuple[Path, Path, str], parsed: Checker) -> None:
    html = made[2]
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assert "url(" not in html and "@import" not in html
    assert parsed.tags["script"] == 0 and parsed.tags["link"] == 0 and parsed.tags["img"] == 0
    assert parsed.tags["iframe"] == parsed.tags["object"] == parsed.tags["embed"] == 0
    for tag, name, value in parsed.attrs:
        assert name != "src", tag
        assert not name.startswith("on"), (tag, name)  # no inline event handlers
        if name in ("href", "xlink:href"):
            assert value.startswith("#"), value


def test_one_calendar_per_pipeline(parsed: Checker) -> None:
    assert parsed.calendars == ["alpha", "beta", "gamma"]


def test_tooltips_say_state_attempt_run_and_error(parsed: Checker) -> None:
    assert tooltip(parsed, "2026-03-01").startswith("2026-03-01 (Sun): covered late (SLA missed)")
    assert "attempt 1 success, run a-late (platform run p-a-late)" in tooltip(parsed, "2026-03-01")
    retrying = tooltip(parsed, "2026-03-11")
    assert "retrying\nattempt 1 failed, run a-retry" in retrying
    # the error's last line, verbatim as text (escaped in the markup)
    assert retrying.endswith("error: " + HOSTILE.splitlines()[-1])
    assert "failed\nattempt 2 failed, run a-fail2" in tooltip(parsed, "2026-03-12")
    assert "in flight\nattempt 1 pending, run a-flight" in tooltip(parsed, "2026-03-14")
    assert tooltip(parsed, "2026-03-16").endswith("gap\nnever attempted")
    assert tooltip(parsed, "2026-03-22").endswith("not yet due")


def test_excluded_dates_have_their_own_mark_legend_entry_and_count(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    write_config(config)
    alpha = json.loads((config / "alpha.yaml").read_text(encoding="utf-8"))
    alpha["exclude"] = [{"from": "2026-03-17", "to": "2026-03-18", "reason": "outage"}]
    (config / "alpha.yaml").write_text(json.dumps(alpha), encoding="utf-8")
    write_state(tmp_path / "state.duckdb")
    out = tmp_path / "report.html"
    args = ["--config-dir", str(config), "--state", str(tmp_path / "state.duckdb")]
    result = CliRunner().invoke(report, [*args, "--now", NOW.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    parsed = Checker()
    parsed.feed(html)
    assert tooltip(parsed, "2026-03-17").startswith("2026-03-17 (Tue): excluded (never planned)")
    assert tooltip(parsed, "2026-03-18").endswith("never planned, never a gap")
    assert 'class="c-excluded"' in html and ".c-excluded rect{" in html
    assert "excluded (never planned)</li>" in html  # the legend
    assert "<b>2</b><span>excluded dates (never planned)</span>" in html


def test_hostile_text_is_escaped(made: tuple[Path, Path, str]) -> None:
    html = made[2]
    assert "<script" not in html and "&amp; &lt;b&gt;" in html
    assert "&lt;/title&gt;&lt;script&gt;" in html
    assert "Alpha &amp; &lt;daily&gt;" in html


def test_fleet_summary(made: tuple[Path, Path, str]) -> None:
    text = re.sub(r"<[^>]+>", "|", made[2])
    assert "|3||pipelines|" in text
    assert "|SLA breaches|" in text and "|failed dates|" in text
    assert "|gaps (never attempted)|" in text


def test_recent_failures_and_pending(made: tuple[Path, Path, str]) -> None:
    html = made[2]
    failures = html[html.index('id="fails"') : html.index('id="pend"')]
    assert failures.count("<tr>") == 1 + 4  # header + a-retry, a-fail1, a-fail2, g-2
    assert "exit code 2: upstream missing" in failures
    pending = html[html.index('id="pend"') :]
    assert "attempt 2, due now" in pending  # alpha 2026-03-11
    assert "2026-03-15..2026-03-19 (5 dates)" in pending  # alpha's backfill (03-20 is a run)


def test_report_to_stdout_and_read_only(made: tuple[Path, Path, str]) -> None:
    config_dir, state, _ = made
    before = state.read_bytes()
    result = CliRunner().invoke(
        report,
        [
            *("--config-dir", str(config_dir), "--state", str(state), "--now", NOW.isoformat()),
            *("--out", "-", "--pipeline", "gamma", "--from", "2025-01-01", "--to", "2025-12-31"),
        ],
    )
    assert result.exit_code == 0, result.output
    checker = Checker()
    checker.feed(result.output)
    assert checker.calendars == ["gamma"]
    assert "2025-06-30 to 2025-12-31" in result.output
    assert state.read_bytes() == before


def test_calendars_of_the_least_covered_only(made: tuple[Path, Path, str]) -> None:
    config_dir, state, _ = made
    result = CliRunner().invoke(
        report,
        [
            *("--config-dir", str(config_dir), "--state", str(state), "--now", NOW.isoformat()),
            *("--out", "-", "--max-calendars", "1"),
        ],
    )
    assert result.exit_code == 0, result.output
    checker = Checker()
    checker.feed(result.output)
    assert checker.calendars == ["gamma"]  # 3 of 9 due dates covered
    assert "Calendars of the 1 least covered of 3 pipelines" in result.output
    assert result.output.count('href="#cal-') == 1
    assert "<td>alpha</td><td>daily</td>" in result.output


def test_missing_state_reads_as_empty_and_is_not_created(tmp_path: Path) -> None:
    write_config(tmp_path / "c")
    state = tmp_path / "none" / "state.duckdb"
    out = tmp_path / "r.html"
    args = ["--config-dir", str(tmp_path / "c"), "--state", str(state), "--out", str(out)]
    result = CliRunner().invoke(report, [*args, "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    assert not state.exists() and not state.parent.exists()
    assert "No failed runs recorded." in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-03-01", "--to", "2026-02-01"], "is before --from"),
        (["--now", "yesterday"], "expected an ISO-8601 instant"),
        (["--from", "03/01/2026"], "'03/01/2026' does not match the format '%Y-%m-%d'"),
    ],
)
def test_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    """Through ``reconciler`` as a user runs it: a one-line error and exit 1 (never 2)."""
    from reconciler.cli import main

    result = CliRunner().invoke(main, ["report", "--config-dir", str(tmp_path), *args])
    assert result.exit_code == 1
    assert message in result.output


def test_unknown_pipeline_is_an_error(made: tuple[Path, Path, str], tmp_path: Path) -> None:
    config_dir, state, _ = made
    result = CliRunner().invoke(
        report,
        [
            *("--config-dir", str(config_dir), "--state", str(state), "--pipeline", "nope"),
            *("--out", str(tmp_path / "r.html")),
        ],
    )
    assert isinstance(result.exception, PlanError)
    assert "no pipeline with id 'nope'" in str(result.exception)
    assert not (tmp_path / "r.html").exists()
