"""The layering rules of the README, enforced: ``models`` imports nothing of ``training``,
``service``, fastapi, faiss or redis; ``training`` and ``service`` never import each other;
``common`` (what both share) imports none of the three. Every ``import`` statement counts, also
the ones inside functions and under ``TYPE_CHECKING``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN: dict[str, set[str]] = {
    "models": {"training", "service", "fastapi", "starlette", "uvicorn", "faiss", "redis"},
    "training": {"service"},
    "service": {"training"},
    "common": {"models", "training", "service"},
}


def imported_roots(source: str, package: str) -> set[str]:
    """Top-level names of every module ``source`` imports (relative imports: ``package``)."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x: stays inside the package
                roots.add(package)
            elif node.module:
                roots.add(node.module.split(".")[0])
    return roots


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path.read_text(encoding="utf-8"), package) & FORBIDDEN[package]
        found += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(bad)]
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_layer(package: str) -> None:
    assert list((ROOT / package).rglob("*.py")), f"{package}/ has no modules: wrong ROOT?"
    assert _violations(package) == []


def test_the_walker_sees_every_kind_of_import() -> None:
    source = """
import faiss.contrib
from redis.asyncio import Redis
from . import sibling
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from training.config import RunConfig
def late():
    import service.app
"""
    assert imported_roots(source, "models") == {
        "faiss", "redis", "models", "typing", "training", "service"
    }  # fmt: skip
