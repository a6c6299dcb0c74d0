"""Every relative link in the repo's Markdown files, and every ``docs/…`` path named in a Python
docstring or comment, points at something that exists (a moved or renamed document breaks this
test, not a reader's trust)."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# [text](target) and ![alt](target), and reference definitions "[label]: target".
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
DOCS_PATH = re.compile(r"(?<![\w/.])docs/[\w./{},*-]*[\w}*]")
# A repo path written as code in Markdown: `docs/protocol.md`, `service/app.py`, `configs/*.toml`.
REPO_DIRS = "common|configs|docker|docs|models|training|service|bench|scripts|tests"
CODE_PATH = re.compile(rf"`((?:{REPO_DIRS})/[\w./{{}},*-]*)`")


def tracked(pattern: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", pattern],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def markdown_links(text: str) -> list[str]:
    """Relative link targets (anchor dropped); links inside code blocks or spans are examples."""
    prose = CODE_SPAN.sub("", FENCE.sub("", text))
    targets = INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)
    relative = [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", t, re.I)]
    return [t.split("#", 1)[0] for t in relative if t.split("#", 1)[0]]


def prose_of(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comment and docstring of a Python module."""
    out = [
        (tok.start[0], tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                out.append((node.body[0].lineno, doc))
    return out


def _expand(path: str) -> list[str]:
    """``a.{json,md}`` -> ``a.json``, ``a.md`` (one brace group, as the docstrings write it)."""
    m = re.search(r"\{([^{}]*)\}", path)
    if m is None:
        return [path]
    return [path[: m.start()] + alt + path[m.end() :] for alt in m.group(1).split(",")]


def exists(path: str) -> bool:
    """A file, a folder, a glob that matches, or a results stem (a path whose .md or .json
    exists, as the results and benchmark scripts name their outputs)."""
    for p in _expand(path.rstrip(".").rstrip("/")):
        if "{" in p:  # a template with a {placeholder}: names no one file
            continue
        if "*" in p:
            if not list(ROOT.glob(p)):
                return False
        elif not any((ROOT / (p + ext)).exists() for ext in ("", ".md", ".json")):
            return False
    return True


def test_markdown_relative_links_resolve() -> None:
    files = tracked("*.md")
    assert any(f.name == "README.md" for f in files)
    broken = [
        f"{md.relative_to(ROOT)}: ({target})"
        for md in files
        for target in markdown_links(md.read_text(encoding="utf-8"))
        if not (md.parent / target).exists()
    ]
    assert broken == []


def test_repo_paths_written_as_code_in_markdown_exist() -> None:
    named = 0
    broken = []
    for md in tracked("*.md"):
        for path in CODE_PATH.findall(FENCE.sub("", md.read_text(encoding="utf-8"))):
            named += 1
            if not exists(path):
                broken.append(f"{md.relative_to(ROOT)}: `{path}`")
    assert named > 10
    assert broken == []


def test_docs_paths_named_in_docstrings_and_comments_exist() -> None:
    named = 0
    broken = []
    for py in tracked("*.py"):
        for line, text in prose_of(py.read_text(encoding="utf-8")):
            for path in DOCS_PATH.findall(text):
                named += 1
                if not exists(path):
                    broken.append(f"{py.relative_to(ROOT)}:{line}: {path}")
    assert named > 10  # the scan found the references it is meant to check
    assert broken == []


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("see [it](docs/protocol.md#split), ![fig](img/a.png)", ["docs/protocol.md", "img/a.png"]),
        ("[web](https://x.org) [anchor](#top) [abs](/etc/passwd)", []),
        ("```\n[in code](nowhere.md)\n```\n`[span](nowhere.md)`", []),
        ("[ref]: docs/methods.md\n", ["docs/methods.md"]),
    ],
)  # fmt: skip
def test_link_extraction(text: str, links: list[str]) -> None:
    assert markdown_links(text) == links


def test_docs_paths_found_in_comments_and_docstrings() -> None:
    source = '"""See docs/protocol.md."""\nx = "docs/not_prose.md"  # and docs/a.{json,md}\n'
    found = [p for _, text in prose_of(source) for p in DOCS_PATH.findall(text)]
    assert sorted(found) == ["docs/a.{json,md}", "docs/protocol.md"]  # the full stop is prose
    assert exists("docs/protocol.md") and exists("docs/benchmarks/training.{json,md}")
    assert exists("docs/results/ssl_ml1m")  # a results stem: .json and .md
    assert not exists("docs/evaluation.md") and not exists("docs/benchmarks/nothing.{json,md}")
