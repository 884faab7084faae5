"""The sticky plan comment against a local server speaking the issue-comments REST API."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.github import comment
from tests.gitops.github_server import Fake, github

REPO, PR = "acme/pipelines", 7


def post(
    base: str, body_file: Path, capsys: pytest.CaptureFixture[str], *more: str
) -> tuple[int, str]:
    code = comment.main(
        [
            "--repo",
            REPO,
            "--issue",
            str(PR),
            "--body-file",
            str(body_file),
            "--api-url",
            base,
            *more,
        ]
    )
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")


def plan_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.md"
    path.write_text(f"{comment.MARKER}\n### Reconciler plan\n\n{text}\n", encoding="utf-8")
    return path


def test_creates_then_updates_the_same_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = Fake()
    # 150 other comments: the marked one must be looked for past the first page
    for i in range(150):
        fake.add(REPO, PR, f"looks good {i}")
    fake.add(REPO, PR + 1, f"{comment.MARKER}\nanother pull request's plan")
    with github(fake) as base:
        code, out = post(base, plan_file(tmp_path, "Plan: 1 run."), capsys)
        assert code == 0, out
        [mine] = [c for c in fake.of(REPO, PR) if comment.MARKER in c["body"]]
        assert out.strip() == f"created plan comment {mine['id']} {mine['html_url']}"
        assert fake.requests[0] == ("GET", "/user")  # whose comments count (refused: the bot)
        lists = [p for m, p in fake.requests if m == "GET" and p != "/user"]
        assert len(lists) == 2 and "page=2" in lists[1]  # followed the Link header
        fake.requests.clear()
        code, out = post(base, plan_file(tmp_path, "Plan: 2 runs."), capsys)
        assert code == 0, out
        assert out.startswith(f"updated plan comment {mine['id']}")
        assert [m for m, _ in fake.requests] == ["GET", "GET", "GET", "PATCH"]
        marked = [c for c in fake.of(REPO, PR) if comment.MARKER in c["body"]]
        assert [c["id"] for c in marked] == [mine["id"]]  # updated in place, not a second one
        assert marked[0]["body"].endswith("Plan: 2 runs.\n")
        assert len(fake.of(REPO, PR)) == 151
        # the other pull request's comment was never touched
        assert fake.of(REPO, PR + 1)[0]["body"].endswith("another pull request's plan")
        code, out = post(base, plan_file(tmp_path, "Plan: 2 runs."), capsys)
        assert out.startswith(f"unchanged plan comment {mine['id']}")


def test_a_long_plan_is_cut_with_a_pointer_to_the_artifact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = Fake()
    details = "".join(
        f"<details><summary>p{i}</summary>\n\n"
        + "- + **backfill** 2024-01-01\n" * 30
        + "</details>\n"
        for i in range(200)
    )
    body_file = plan_file(tmp_path, details)
    assert len(body_file.read_text()) > 65_536
    with github(fake) as base:
        code, out = post(
            base, body_file, capsys, "--artifact-url", "https://ci.example/run/1/artifacts/9"
        )
        assert code == 0, out
    [posted] = fake.of(REPO, PR)
    body = posted["body"]
    assert len(body) < 65_536
    assert body.startswith(comment.MARKER)
    assert body.rstrip().endswith(
        "the full plan is in the plan artifact of this run (https://ci.example/run/1/artifacts/9)."
    )
    assert body.count("<details>") == body.count("</details>")  # the cut closed its block


def test_fit_keeps_short_bodies_and_adds_the_marker() -> None:
    assert comment.fit("hello") == f"{comment.MARKER}\nhello"
    text = f"{comment.MARKER}\n" + "x\n" * 10
    assert comment.fit(text) == text
    cut = comment.fit(f"{comment.MARKER}\n" + "line\n" * 40_000, None, limit=1_000)
    assert len(cut) <= 1_000 and "the full plan is in the plan artifact." in cut


def test_fork_pull_requests_get_a_warning_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = Fake(read_only=True)
    with github(fake) as base:
        code, out = post(base, plan_file(tmp_path, "Plan: 1 run."), capsys)
    assert code == 0
    assert out.startswith("::warning title=reconciler plan comment::not posted: creating the plan")
    assert "HTTP 403 (Resource not accessible by integration)" in out
    assert fake.of(REPO, PR) == []


def test_other_failures_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with github(Fake()) as base:
        code, out = post(base, tmp_path / "missing.md", capsys)
        assert code == 1 and "cannot read" in out
        code, out = (
            comment.main(
                [
                    "--repo",
                    "acme/../x",
                    "--issue",
                    "1",
                    "--body-file",
                    str(plan_file(tmp_path, "x")),
                    "--api-url",
                    base + "/nowhere",
                ]
            ),
            capsys.readouterr().err,
        )
        assert code == 1 and "HTTP 404" in out


def test_no_token_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    code, out = post("http://127.0.0.1:9", plan_file(tmp_path, "x"), capsys)
    assert code == 0 and out.startswith("::warning")


def test_a_human_comment_quoting_the_marker_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the token's own comments are candidates: editing a human's answers 403."""
    fake = Fake()  # a workflow's GITHUB_TOKEN: GET /user is refused, comments are the bot's
    quoted = f"> {comment.MARKER}\n> Plan: 1 run.\n\nwhy does this run?"
    human = fake.add(REPO, PR, quoted, login="reviewer")
    with github(fake) as base:
        code, out = post(base, plan_file(tmp_path, "Plan: 1 run."), capsys)
        assert code == 0, out
        assert out.startswith("created plan comment")
        code, out = post(base, plan_file(tmp_path, "Plan: 2 runs."), capsys)
        assert code == 0, out
        assert out.startswith("updated plan comment")
    assert fake.comments[human["id"]]["body"] == quoted
    mine = [c for c in fake.of(REPO, PR) if c["user"]["login"] == "github-actions[bot]"]
    assert len(mine) == 1 and mine[0]["body"].endswith("Plan: 2 runs.\n")
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{human['id']}") not in fake.requests


def test_a_personal_token_finds_its_own_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = Fake(login="ci-user", user_endpoint=True)
    bot = fake.add(REPO, PR, f"{comment.MARKER}\nan older bot plan", login="github-actions[bot]")
    with github(fake) as base:
        code, out = post(base, plan_file(tmp_path, "Plan: 1 run."), capsys)
        assert code == 0 and out.startswith("created plan comment"), out
        code, out = post(base, plan_file(tmp_path, "Plan: 2 runs."), capsys)
        assert code == 0 and out.startswith("updated plan comment"), out
        # --author names the user outright (a GitHub App's installation token)
        code, out = post(base, plan_file(tmp_path, "Plan: 3."), capsys, "--author", "ci-user")
        assert code == 0 and out.startswith("updated plan comment"), out
    assert fake.comments[bot["id"]]["body"].endswith("an older bot plan")
