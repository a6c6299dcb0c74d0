"""No function in models/, service/, training/ or common/ above cyclomatic complexity 20
(radon's measure): past that a function is a list of cases to be turned into data or helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import radon.complexity as radon_complexity  # a dev dependency: never skipped
import radon.visitors as radon_visitors

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "service", "training", "common")
LIMIT = 20
EXCLUDED: set[tuple[str, str]] = set()  # (path, function): none, and keep it so


def _functions(blocks: list[Any]) -> Iterator[Any]:
    """Every function, method and nested function among radon's blocks."""
    for block in blocks:
        if isinstance(block, radon_visitors.Class):
            yield from _functions(block.methods)
        else:
            yield block
            yield from _functions(block.closures)


def test_no_function_above_complexity_limit() -> None:
    too_complex = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            blocks = radon_complexity.cc_visit(path.read_text(encoding="utf-8"))
            for fn in _functions(blocks):
                if fn.complexity > LIMIT and (rel, fn.name) not in EXCLUDED:
                    too_complex.append(f"{rel}:{fn.lineno} {fn.fullname} ({fn.complexity})")
    assert not too_complex, (
        f"cyclomatic complexity above {LIMIT} (split into helpers, or turn cases into data): "
        + "; ".join(too_complex)
    )
