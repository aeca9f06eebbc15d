"""The front door and the house: the README stays short and its commands are what CI runs,
every link in the docs resolves, no placeholder is left, and the code keeps the layout it
promises (modules under 600 lines, no private names imported across modules)."""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest
from paths import REPO

DOCS = [REPO / "README.md", REPO / "benchmarks" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CODE = [REPO / "app.py", *(p for d in ("qa_core", "ui", "train") for p in (REPO / d).rglob("*.py"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_short():
    assert len(readme().splitlines()) <= 250


def test_ci_runs_exactly_the_readmes_test_command():
    commands = re.findall(r"```bash\n(python3 -m venv .venv && [^\n]+)\n```", readme())
    app, tests = commands[:2]
    assert "requirements-local.txt" in app and app.endswith("app.py")
    assert "requirements-dev.txt" in tests and "pytest" in tests
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci[-1] == tests


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1)).strip().lower()
            slug = "".join(c for c in text if c.isalnum() or c in " -_" or
                           unicodedata.category(c).startswith("L"))
            out.add(slug.replace(" ", "-"))
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves(doc):
    assert doc.is_file(), doc
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists() or (anchor and path.suffix == ".md"
                                 and anchor not in anchors(path)):
            broken.append(target)
    assert not broken, broken


@pytest.mark.parametrize("doc", [*DOCS, REPO / "notebooks" / "finetune_colab.ipynb"],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_placeholder_is_left(doc):
    text = doc.read_text(encoding="utf-8")
    for placeholder in ("YOUR-GITHUB-USER", "SMOKE_F1", "START_TO_ANSWER", "TODO", "TBD",
                        "to be filled"):
        assert placeholder not in text, placeholder


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(REPO)): n for p in CODE
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long


def test_no_private_name_is_imported_across_modules():
    """``from qa_core.x import _helper`` couples modules through what one of them hides."""
    found = []
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.split(".")[0] in ("qa_core", "ui", "train", "app")):
                found += [f"{path.relative_to(REPO)}: {node.module}.{a.name}"
                          for a in node.names if a.name.startswith("_")]
    assert not found, found
