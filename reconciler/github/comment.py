"""One sticky pull-request comment holding the plan, found by a hidden marker, updated in place.

Run by ``.github/workflows/plan.yml`` as::

    python -m reconciler.github.comment --repo OWNER/REPO --issue 42 \\
        --body-file plan.md --artifact-url "$RUN_URL"

with ``GITHUB_TOKEN`` in the environment (``pull-requests: write``). It lists the
issue's comments (every page), updates the first one holding ``<!-- reconciler-plan -->``
that the token's own user wrote, or creates one, through the issue-comments REST API.
Anybody's comment may quote the marker (a reviewer replying to the plan), and editing
it would be refused, so only the token's own comments count: its user is ``--author``,
else what ``GET /user`` answers (a personal token), else ``github-actions[bot]``, the
author of a workflow's ``GITHUB_TOKEN`` comments (that token may not read ``/user``). A
GitHub App's installation token needs ``--author 'APP-SLUG[bot]'``. GitHub refuses a comment over
65,536 characters, so a longer body is cut at a line and ends with a pointer to the
full plan artifact. A fork's pull request gets a read-only token: the API answers 403,
and the script says so as a workflow warning and exits 0 (the job summary still has
the plan).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from reconciler.render.annotations import escape_data

MARKER = "<!-- reconciler-plan -->"
GITHUB_LIMIT = 65_536  # characters; GitHub refuses longer comment bodies
LIMIT = GITHUB_LIMIT - 536  # margin for the closing note
PER_PAGE = 100
MAX_PAGES = 100  # 10,000 comments: a bound, not an expectation
ACTIONS_BOT = "github-actions[bot]"  # the user of a workflow's GITHUB_TOKEN


class NoPermission(Exception):
    """The token may not write comments (a fork's pull request): 401/403."""


class GitHubError(Exception):
    """Any other failure of the API."""


def fit(body: str, artifact_url: str | None = None, limit: int = LIMIT) -> str:
    """The body with the marker first, cut at a line under ``limit`` characters if needed."""
    if MARKER not in body:
        body = f"{MARKER}\n{body}"
    if len(body) <= limit:
        return body
    where = (
        f"the plan artifact of this run ({artifact_url})" if artifact_url else "the plan artifact"
    )
    note = (
        f"\n\n> **Truncated:** this plan is longer than a comment may be "
        f"({len(body):,} characters); the full plan is in {where}.\n"
    )
    room = max(limit - len(note) - 40, 0)
    cut = body[:room]
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else cut
    # close the collapsible blocks the cut left open, so the note is not folded away
    unclosed = cut.count("<details>") - cut.count("</details>")
    cut += "\n</details>\n" * max(unclosed, 0)
    return cut + note


@dataclass(frozen=True, slots=True)
class Result:
    action: Literal["created", "updated", "unchanged"]
    comment_id: int
    url: str | None


class StickyComment:
    """The plan comment of one issue or pull request."""

    def __init__(
        self, client: httpx.Client, repo: str, issue: int, author: str | None = None
    ) -> None:
        self.client = client
        self.repo = repo
        self.issue = issue
        self.author = author  # whose comments may be the plan's; None: the token's user

    def token_user(self) -> str:
        """The login the token writes as (see the module docstring)."""
        if self.author is None:
            response = self.client.get("/user")
            if response.status_code in (401, 403):
                self.author = ACTIONS_BOT  # a workflow's GITHUB_TOKEN may not read /user
            else:
                self.author = str(self._check(response, "reading the token's user")["login"])
        return self.author

    def _check(self, response: httpx.Response, doing: str) -> Any:
        if response.status_code in (401, 403):
            raise NoPermission(
                f"{doing}: HTTP {response.status_code} "
                f"({_message(response)}); the token cannot write comments here"
            )
        if response.status_code >= 400:
            raise GitHubError(f"{doing}: HTTP {response.status_code} ({_message(response)})")
        return response.json()

    def find(self) -> dict[str, Any] | None:
        """The token user's first comment holding the marker, over every page of comments."""
        author = self.token_user()
        url: str | None = f"/repos/{self.repo}/issues/{self.issue}/comments"
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self.client.get(url, params=params)
            comments = self._check(response, "listing comments")
            for comment in comments:
                login = (comment.get("user") or {}).get("login")
                if login == author and MARKER in (comment.get("body") or ""):
                    return dict(comment)
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries its own query
        return None

    def upsert(self, body: str) -> Result:
        """Update the marked comment in place, or create it."""
        existing = self.find()
        if existing is not None:
            if existing.get("body") == body:
                return Result("unchanged", int(existing["id"]), existing.get("html_url"))
            response = self.client.patch(
                f"/repos/{self.repo}/issues/comments/{existing['id']}", json={"body": body}
            )
            data = self._check(response, "updating the plan comment")
            return Result("updated", int(data["id"]), data.get("html_url"))
        response = self.client.post(
            f"/repos/{self.repo}/issues/{self.issue}/comments", json={"body": body}
        )
        data = self._check(response, "creating the plan comment")
        return Result("created", int(data["id"]), data.get("html_url"))


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict) and "message" in data:
        return str(data["message"])
    return response.reason_phrase


def client(api_url: str, token: str, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=api_url.rstrip("/"),
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "backfill-reconciler",
        },
        timeout=timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.github.comment",
        description="Create or update the sticky plan comment of a pull request.",
    )
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="OWNER/REPO")
    parser.add_argument("--issue", type=int, required=True, help="pull request number")
    parser.add_argument("--body-file", required=True, help="markdown to post")
    parser.add_argument("--artifact-url", default=None, help="where the full plan is")
    parser.add_argument(
        "--author",
        default=None,
        help="login whose comment is the plan's (default: the token's user; "
        f"{ACTIONS_BOT} for a workflow's GITHUB_TOKEN)",
    )
    parser.add_argument(
        "--api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com")
    )
    args = parser.parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not args.repo:
        print("Error: --repo (or GITHUB_REPOSITORY) is required", file=sys.stderr)
        return 1
    if not token:
        print("::warning title=reconciler plan comment::no GITHUB_TOKEN: comment not posted")
        return 0
    try:
        with open(args.body_file, encoding="utf-8") as handle:
            body = fit(handle.read(), args.artifact_url)
    except OSError as exc:
        print(f"Error: cannot read {args.body_file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        with client(args.api_url, token) as http:
            result = StickyComment(http, args.repo, args.issue, args.author).upsert(body)
    except NoPermission as exc:
        # a fork's pull request: read-only token; the job summary still shows the plan
        message = f"not posted: {exc} (a pull request from a fork?); the plan is in the job summary"
        print(f"::warning title=reconciler plan comment::{escape_data(message)}")
        return 0
    except (GitHubError, httpx.HTTPError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"{result.action} plan comment {result.comment_id} {result.url or ''}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
