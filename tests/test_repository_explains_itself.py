"""The repository explains itself: code, tests and docs cite only pages that are in it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# outside documents the project was written from; spelled in pieces so this file passes
OUTSIDE = re.compile(
    "|".join(
        [
            "SP" + r"EC(\.md| section| §)",
            "ST" + r"YLE(\.md| habit)",
            "api-" + "contracts",
            r"\.\./" + "shared",
            "§" + r"\s?\d",  # a numbered section of a document that is not here
        ]
    )
)
WHERE = ["reconciler", "tests", "docs", "benchmarks", "examples", "schemas", ".github"]


def _texts() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "action.yml"]
    for top in WHERE:
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [p for p in files if p.suffix in {".py", ".md", ".yml", ".yaml", ".json", ".toml"}]


def test_no_file_cites_a_document_outside_the_repository() -> None:
    cites = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _texts()
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert cites == []


def test_every_page_docs_links_to_exists() -> None:
    missing = [
        f"{page.name} -> {target}"
        for page in (ROOT / "docs").glob("*.md")
        for target in re.findall(r"\]\(([^)#]+\.md)", page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]
    assert missing == []
